import JSON
import Testing
import ToolCalls
@testable import Daemon

/// Decodes `text` as one line and returns the request, or the error's code and id.
private func decode(_ text: String) -> Result<RPCRequest, RPCErrorResponse> {
    RPCRequest.decode(line: Array(text.utf8))
}

private func json(_ text: String) -> JSONValue {
    (try? JSONParser.parse(text)) ?? .null
}

@Suite struct RequestDecodingTests {
    static let accepted: [(String, RPCRequest)] = [
        (#"{"jsonrpc":"2.0","id":1,"method":"health"}"#, RPCRequest(id: .number(JSONNumber(1)), method: "health")),
        (#"{"jsonrpc":"2.0","id":"a-1","method":"route","params":{"input":"hi"}}"#,
         RPCRequest(id: .string("a-1"), method: "route", params: .object([(key: "input", value: .string("hi"))]))),
        (#"{"method":"stats","jsonrpc":"2.0","id":null}"#, RPCRequest(id: .null, method: "stats")),
        (#"{"jsonrpc":"2.0","method":"health"}"#, RPCRequest(id: nil, method: "health")),
        (#"  {"jsonrpc":"2.0","id":2.5,"method":"x","params":[]}  "#, RPCRequest(id: .number(JSONNumber(literal: "2.5")), method: "x", params: .array([]))),
    ]

    @Test(arguments: accepted)
    func accepts(line: String, expected: RPCRequest) throws {
        #expect(try decode(line).get() == expected)
    }

    @Test func notificationHasNoID() throws {
        let request = try decode(#"{"jsonrpc":"2.0","method":"health"}"#).get()
        #expect(request.isNotification)
        #expect(request.responseID == .null)
    }

    static let rejected: [(String, RPCErrorCode, JSONValue, String)] = [
        ("", .parseError, .null, "parse error: 1:1: expected a JSON value, found end of input"),
        ("not json", .parseError, .null, "parse error: 1:1: expected 'null', found 'not'"),
        (#"{"jsonrpc":"2.0","id":1,"method":"health""#, .parseError, .null, "parse error: 1:42: expected ',' or '}' after object member, found end of input"),
        (#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#, .parseError, .null, #"parse error: 1:25: duplicate key "id""#),
        ("[]", .invalidRequest, .null, "invalid request: batches are not supported; send one request per line"),
        (#"[{"jsonrpc":"2.0","id":1,"method":"health"}]"#, .invalidRequest, .null, "invalid request: batches are not supported; send one request per line"),
        ("42", .invalidRequest, .null, "invalid request: expected a request object, got the number 42"),
        (#"{"jsonrpc":"2.0","id":{},"method":"x"}"#, .invalidRequest, .null, "invalid request: id must be a string, a number or null, got an object"),
        (#"{"jsonrpc":"2.0","id":true,"method":"x"}"#, .invalidRequest, .null, "invalid request: id must be a string, a number or null, got a boolean"),
        (#"{"jsonrpc":"1.0","id":7,"method":"x"}"#, .invalidRequest, .number(JSONNumber(7)), #"invalid request: "jsonrpc" must be "2.0""#),
        (#"{"id":"q","method":"x"}"#, .invalidRequest, .string("q"), #"invalid request: "jsonrpc" must be "2.0""#),
        (#"{"jsonrpc":2.0,"id":"q","method":"x"}"#, .invalidRequest, .string("q"), #"invalid request: "jsonrpc" must be "2.0""#),
        (#"{"jsonrpc":"2.0","id":3}"#, .invalidRequest, .number(JSONNumber(3)), #"invalid request: missing "method""#),
        (#"{"jsonrpc":"2.0","id":3,"method":5}"#, .invalidRequest, .number(JSONNumber(3)), #"invalid request: "method" must be a string, got the number 5"#),
        (#"{"jsonrpc":"2.0","id":3,"method":"x","params":"a"}"#, .invalidRequest, .number(JSONNumber(3)), #"invalid request: "params" must be an object or an array, got the string "a""#),
        (#"{"jsonrpc":"2.0","id":3,"method":"x","extra":1}"#, .invalidRequest, .number(JSONNumber(3)), #"invalid request: unknown member "extra""#),
    ]

    @Test(arguments: rejected)
    func rejects(line: String, code: RPCErrorCode, id: JSONValue, message: String) {
        guard case .failure(let response) = decode(line) else { Issue.record("accepted \(line)"); return }
        #expect(response.error.code == code)
        #expect(response.id == id)
        #expect(response.error.message == message)
    }

    @Test func invalidUTF8IsAParseError() {
        let line: [UInt8] = Array(#"{"jsonrpc":"2.0","id":1,"method":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        guard case .failure(let response) = RPCRequest.decode(line: line) else { Issue.record("accepted invalid UTF-8"); return }
        #expect(response.error.code == .parseError)
        #expect(response.id == .null)
    }

    @Test func deepNestingIsAParseError() {
        let line = #"{"jsonrpc":"2.0","id":1,"method":"x","params":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        guard case .failure(let response) = decode(line) else { Issue.record("accepted deep nesting"); return }
        #expect(response.error.code == .parseError)
    }
}

@Suite struct MethodParsingTests {
    private func parse(_ method: String, _ params: String?) -> Result<AgentMethod, RPCError> {
        AgentMethod.parse(RPCRequest(id: .number(JSONNumber(1)), method: method, params: params.map(json)))
    }

    static let accepted: [(String, String?, AgentMethod)] = [
        ("route", #"{"input":"refund order 42"}"#, .route(RouteParams(input: "refund order 42"))),
        ("call", #"{"catalogue":"support","input":"x","deadline_ms":250}"#, .call(RouteParams(catalogue: "support", input: "x", deadlineMs: 250))),
        ("route", #"{"deadline_ms":1e3,"input":"x"}"#, .route(RouteParams(input: "x", deadlineMs: 1000))),
        ("route", #"{"input":"x","tool_choice":"auto"}"#, .route(RouteParams(input: "x"))),
        ("route", #"{"input":"x","tool_choice":"required"}"#, .route(RouteParams(input: "x", toolChoice: .required))),
        ("call", #"{"input":"x","tool_choice":"track_order"}"#, .call(RouteParams(input: "x", toolChoice: .tool("track_order")))),
        ("call", #"{"input":"x","tool_choice":{"type":"function","function":{"name":"escalate"}}}"#, .call(RouteParams(input: "x", toolChoice: .tool("escalate")))),
        ("tools/list", nil, .toolsList(catalogue: nil)),
        ("tools/list", "{}", .toolsList(catalogue: nil)),
        ("tools/list", #"{"catalogue":"devops"}"#, .toolsList(catalogue: "devops")),
        ("health", nil, .health),
        ("health", "{}", .health),
        ("stats", "[]", .stats(prometheus: false)),
        ("stats", #"{"format":"prometheus"}"#, .stats(prometheus: true)),
        ("stats", #"{"format":"json"}"#, .stats(prometheus: false)),
    ]

    @Test(arguments: accepted)
    func accepts(method: String, params: String?, expected: AgentMethod) throws {
        #expect(try parse(method, params).get() == expected)
    }

    static let rejected: [(String, String?, RPCErrorCode, String)] = [
        ("nope", nil, .methodNotFound, #"method not found: "nope" (methods: route, call, tools/list, health, stats)"#),
        ("Route", "{}", .methodNotFound, #"method not found: "Route" (methods: route, call, tools/list, health, stats)"#),
        ("route", nil, .invalidParams, #"invalid params: input: missing (params must be an object with "input")"#),
        ("route", "{}", .invalidParams, "invalid params: input: missing"),
        ("route", #"["hi"]"#, .invalidParams, "invalid params: route and call takes an object, got an array"),
        ("call", #"{"input":""}"#, .invalidParams, "invalid params: input: must not be empty"),
        ("call", #"{"input":5}"#, .invalidParams, "invalid params: input: expected a string, got the number 5"),
        ("call", #"{"input":"x","deadline_ms":0}"#, .invalidParams, "invalid params: deadline_ms: expected an integer between 1 and 3600000, got 0"),
        ("call", #"{"input":"x","deadline_ms":1.5}"#, .invalidParams, "invalid params: deadline_ms: expected an integer between 1 and 3600000, got 1.5"),
        ("call", #"{"input":"x","deadline_ms":"5"}"#, .invalidParams, #"invalid params: deadline_ms: expected an integer between 1 and 3600000, got "5""#),
        ("route", #"{"input":"x","catalogue":3}"#, .invalidParams, "invalid params: catalogue: expected a string, got the number 3"),
        ("route", #"{"input":"x","catalogue":"a b"}"#, .invalidParams, #"invalid params: catalogue: invalid catalogue name "a b""#),
        ("route", #"{"input":"x","temperature":0}"#, .invalidParams, "invalid params: temperature: unknown param (expected: catalogue, input, deadline_ms, tool_choice)"),
        ("route", #"{"input":"x","tool_choice":3}"#, .invalidParams, #"invalid params: tool_choice: expected "auto", "required", "none", a tool name, or {"type": "function", "function": {"name": NAME}}; got 3"#),
        ("call", #"{"input":"x","tool_choice":""}"#, .invalidParams, "invalid params: tool_choice: the tool name is empty"),
        ("call", #"{"input":"x","tool_choice":{"type":"function"}}"#, .invalidParams, #"invalid params: tool_choice: expected "auto", "required", "none", a tool name, or {"type": "function", "function": {"name": NAME}}; got {"type":"function"}"#),
        ("tools/list", #"{"input":"x"}"#, .invalidParams, "invalid params: input: unknown param (expected: catalogue)"),
        ("tools/list", #"["support"]"#, .invalidParams, "invalid params: tools/list takes an object, got an array"),
        ("health", #"{"verbose":true}"#, .invalidParams, "invalid params: verbose: unknown param (health takes none)"),
        ("stats", "[1]", .invalidParams, "invalid params: stats takes an object, got an array"),
        ("stats", #"{"format":"xml"}"#, .invalidParams, #"invalid params: format: expected "json" or "prometheus", got "xml""#),
    ]

    @Test(arguments: rejected)
    func rejects(method: String, params: String?, code: RPCErrorCode, message: String) {
        guard case .failure(let error) = parse(method, params) else { Issue.record("accepted \(method) \(params ?? "nil")"); return }
        #expect(error.code == code)
        #expect(error.message == message)
    }

    @Test func invalidParamsCarryTheField() {
        guard case .failure(let error) = parse("call", #"{"input":""}"#) else { Issue.record("accepted"); return }
        #expect(error.data == json(#"{"field":"input"}"#))
    }

    @Test func messagesNeverEchoHugeValues() {
        let huge = String(repeating: "m", count: 10_000)
        guard case .failure(let error) = parse(huge, nil) else { Issue.record("accepted"); return }
        #expect(error.message.utf8.count < 200)
        guard case .failure(let paramsError) = parse("route", "{\"\(huge)\":1}") else { Issue.record("accepted"); return }
        #expect(paramsError.message.utf8.count < 200)
        guard case .failure(let response) = decode(#"{"jsonrpc":"2.0","id":1,"method":"x","params":"\#(huge)"}"#) else { Issue.record("accepted"); return }
        #expect(response.error.message.utf8.count < 200)
    }

    @Test func inputSizeCap() throws {
        let atCap = String(repeating: "é", count: RouteParams.maxInputBytes / 2)
        #expect(try parse("route", JSONWriter.compact(.object([(key: "input", value: .string(atCap))]))).get() == .route(RouteParams(input: atCap)))
        guard case .failure(let error) = parse("route", JSONWriter.compact(.object([(key: "input", value: .string(atCap + "a"))]))) else {
            Issue.record("accepted an input over the cap"); return
        }
        #expect(error.message == "invalid params: input: longer than 16384 bytes (16385)")
    }
}

@Suite struct ResponseEncodingTests {
    @Test func resultLine() {
        let bytes = RPCResponse.result(id: .number(JSONNumber(1)), json(#"{"status":"ok","n":[1,2]}"#))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":1,"result":{"status":"ok","n":[1,2]}}"# + "\n")
    }

    @Test func errorLineWithoutData() {
        let bytes = RPCResponse.error(id: .string("a"), RPCError(.overloaded))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":"a","error":{"code":-32002,"message":"overloaded: the request queue is full"}}"# + "\n")
    }

    @Test func errorLineWithData() {
        let bytes = RPCResponse.error(id: .null, .invalidCall(raw: "{\"name\":\"x\"\n}", issues: ["/arguments: missing \"id\""]))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32007,"message":"invalid call: the decoded call failed validation and was not dispatched","data":{"raw":"{\"name\":\"x\"\n}","issues":["/arguments: missing \"id\""]}}}"# + "\n")
    }

    @Test func messageTooLargeLine() {
        let bytes = RPCResponse.error(id: .null, .messageTooLarge(byteCount: 2000, limit: 1024))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32008,"message":"message too large: more than 1024 bytes in one line (2000 read); the line was discarded","data":{"bytes":2000,"limit":1024}}}"# + "\n")
    }

    @Test func codesAreTheDocumentedOnes() {
        #expect(RPCErrorCode.allCases.map(\.rawValue) == [-32700, -32600, -32601, -32602, -32603, -32001, -32002, -32003, -32004, -32005, -32006, -32007, -32008, -32009, -32010,
                                                         -32011, -32020, -32021, -32022, -32023, -32030, -32031, -32032])
    }

    @Test func decodeFailureBytesAreAnErrorLine() {
        guard case .failure(let response) = RPCRequest.decode(line: Array("{".utf8)) else { Issue.record("accepted"); return }
        #expect(String(decoding: response.bytes, as: UTF8.self) == #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: 1:2: expected '\"' to begin an object key, found end of input"}}"# + "\n")
    }
}
