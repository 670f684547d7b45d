import JSON
import TestSupport
import Testing
@testable import Daemon

/// Valid requests the mutations start from.
private let seeds: [String] = [
    #"{"jsonrpc":"2.0","id":1,"method":"route","params":{"input":"refund order 1234","catalogue":"support"}}"#,
    #"{"jsonrpc":"2.0","id":"c-9","method":"call","params":{"input":"restart the web service","deadline_ms":500}}"#,
    #"{"jsonrpc":"2.0","id":null,"method":"tools/list","params":{"catalogue":"devops"}}"#,
    #"{"jsonrpc":"2.0","id":2,"method":"health"}"#,
    #"{"jsonrpc":"2.0","method":"stats","params":{}}"#,
    #"{"jsonrpc":"2.0","id":3,"method":"route","params":{"input":"caf\u00e9 \ud83d\ude00 \"quoted\""}}"#,
]

/// Bytes that tend to matter to a JSON parser.
private let interesting: [UInt8] = Array(#"{}[]",:0123456789-+.eE\/ntfu"#.utf8) + [0x00, 0x0D, 0x0A, 0x7F, 0x80, 0xC3, 0xED, 0xF0, 0xFF]

/// One random or mutated line (it may contain newlines and so become several lines, or none).
private func fuzzLine(_ random: inout SeededRandom) -> [UInt8] {
    if Int.random(in: 0..<10, using: &random) == 0 {
        return (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
    }
    var line = Array(seeds[Int.random(in: 0..<seeds.count, using: &random)].utf8)
    for _ in 0..<Int.random(in: 0...4, using: &random) {
        let position = Int.random(in: 0...line.count, using: &random)
        let byte = Bool.random(using: &random) ? interesting[Int.random(in: 0..<interesting.count, using: &random)] : UInt8.random(in: 0...255, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0 where position < line.count: line[position] = byte
        case 1: line.insert(byte, at: position)
        case 2 where position < line.count: line.remove(at: position)
        case 3: line = Array(line[..<position])
        case 4:
            let other = Array(seeds[Int.random(in: 0..<seeds.count, using: &random)].utf8)
            let cut = Int.random(in: 0...other.count, using: &random)
            line = Array(line[..<position]) + other[cut...]
        default:
            let repeats = Int.random(in: 1...300, using: &random)
            line.insert(contentsOf: Array(repeating: byte == 0x0A ? 0x5B : byte, count: repeats), at: position)
        }
    }
    return line
}

/// Checks a response line: one JSON object with jsonrpc 2.0, an id and an error with a documented code.
private func checkErrorLine(_ bytes: [UInt8]) {
    #expect(bytes.last == 0x0A)
    #expect(bytes.dropLast().contains(0x0A) == false)
    guard let value = try? JSONParser.parse(bytes: bytes.dropLast()) else {
        Issue.record("response is not JSON: \(String(decoding: bytes, as: UTF8.self))"); return
    }
    #expect(value["jsonrpc"] == .string("2.0"))
    switch value["id"] {
    case .string?, .number?, .null?: break
    default: Issue.record("bad id in \(value)")
    }
    let code = value["error"]?["code"]?.intValue
    #expect(code.flatMap(RPCErrorCode.init(rawValue:)) != nil, "code in \(value)")
    #expect(value["error"]?["message"]?.stringValue?.isEmpty == false)
}

/// The outcome of one framed line through decode and parse.
private enum Outcome: Equatable {
    case method(AgentMethod)
    case error([UInt8])
    case tooLong
}

private func handle(_ framed: FramedLine, limit: Int) -> Outcome {
    switch framed {
    case .tooLong(let count):
        let bytes = RPCResponse.error(id: .null, .messageTooLarge(byteCount: count, limit: limit))
        checkErrorLine(bytes)
        return .tooLong
    case .line(let line):
        switch RPCRequest.decode(line: line) {
        case .failure(let response):
            checkErrorLine(response.bytes)
            return .error(response.bytes)
        case .success(let request):
            switch AgentMethod.parse(request) {
            case .success(let method): return .method(method)
            case .failure(let error):
                let bytes = RPCResponse.error(id: request.responseID, error)
                checkErrorLine(bytes)
                return .error(bytes)
            }
        }
    }
}

@Suite struct ProtocolFuzzTests {
    @Test func tenThousandMutatedLinesNeverCrash() {
        var random = SeededRandom(state: 0x7001_C0DE)
        var stream: [UInt8] = []
        var lineCount = 0
        for _ in 0..<10_000 {
            stream += fuzzLine(&random)
            stream.append(0x0A)
            lineCount += 1
        }
        let limit = 512
        // Once in random chunks, once whole: the outcomes must agree.
        var chunked = LineFramer(maxLineBytes: limit)
        var outcomes: [Outcome] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + Int.random(in: 1...700, using: &random))
            for framed in chunked.append(stream[offset..<end]) { outcomes.append(handle(framed, limit: limit)) }
            #expect(chunked.bufferedByteCount <= limit + 1)
            offset = end
        }
        var whole = LineFramer(maxLineBytes: limit)
        let wholeOutcomes = whole.append(stream).map { handle($0, limit: limit) }
        #expect(outcomes == wholeOutcomes)

        let methods = outcomes.filter { if case .method = $0 { true } else { false } }.count
        let tooLong = outcomes.filter { $0 == .tooLong }.count
        #expect(outcomes.count >= lineCount / 2)
        #expect(methods > 1000, "mutations should leave many requests valid")
        #expect(outcomes.count - methods - tooLong > 3000, "and break many others")
        #expect(tooLong > 10)
    }
}
