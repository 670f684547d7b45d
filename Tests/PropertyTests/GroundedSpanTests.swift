// `x-from-input`: whatever the matcher accepts, a grounded value is a span of the request from word
// boundary to word boundary, and the validator refuses one that is not. Requests and schemas are drawn at random from fixed seeds, with
// quotes, backslashes, controls and non-ASCII text in them, so escaping is exercised on every run.

import Foundation
import GGUF
import Grammar
import JSON
import SchemaGrammar
import Testing
import TestSupport
@testable import TokenMatcher
import Tokenizer
import ToolCalls

private enum GroundedFixture {
    static let vocabulary: Result<TokenVocabulary, Error> = Result {
        let tokenizer = try BPETokenizer(gguf: GGUFFile(path: TestPaths.requireModel()))
        let tokens = (0..<tokenizer.vocabularySize).map { id -> [UInt8] in
            tokenizer.isControl(id) ? [] : ((try? tokenizer.tokenBytes(id)) ?? [])
        }
        return TokenVocabulary(tokens: tokens, endOfGeneration: tokenizer.endOfGenerationIDs)
    }

    /// The demo support catalogue as shipped (order ids, address parts and reasons are grounded).
    static func support() throws -> ToolCatalogue {
        try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
    }

    static let pieces = ["refund", "ORD-", "1234", "ORD-55821", " ", " ", "the", "billing-api", "\"", "\\", "\n", "\t", "café", "日本",
                         "😀", "/", "C:\\temp", "'", "x", "Main St 12", "Zürich", "8004", "{", "}", ",", ":", "\u{01}", "a\"b"]

    /// A request of a few random pieces, joined by a space, a comma or nothing (words run together).
    static func request(_ rng: inout SeededRandom) -> String {
        var out = ""
        for index in 0..<Int.random(in: 1...9, using: &rng) {
            if index > 0 { out += [" ", " ", ", ", ""].randomElement(using: &rng) ?? "" }
            out += pieces.randomElement(using: &rng) ?? ""
        }
        return out
    }

    /// An object of one to three grounded strings (some in an array), with random lengths and patterns.
    static func schema(_ rng: inout SeededRandom) -> JSONValue {
        let patterns = ["^ORD-[0-9]{4,8}$", "^[a-z][a-z0-9-]{1,40}$", "^[^ ]+$", "^.{2,}$"]
        var properties: [(key: String, value: JSONValue)] = []
        var required: [JSONValue] = []
        for index in 0..<Int.random(in: 1...3, using: &rng) {
            var string: [(key: String, value: JSONValue)] = [("type", .string("string")), ("x-from-input", .bool(true))]
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: string.append(("pattern", .string(patterns.randomElement(using: &rng) ?? "")))
            case 1: string.append(("minLength", .number(JSONNumber(Int.random(in: 1...3, using: &rng)))))
            case 2: string.append(("maxLength", .number(JSONNumber(Int.random(in: 3...20, using: &rng)))))
            default: break
            }
            let name = "p\(index)"
            if Bool.random(using: &rng) {
                properties.append((name, .object(string)))
            } else {
                properties.append((name, .object([("type", .string("array")), ("items", .object(string)), ("maxItems", .number(JSONNumber(3)))])))
            }
            if Bool.random(using: &rng) { required.append(.string(name)) }
        }
        return .object([("type", .string("object")), ("properties", .object(properties)), ("required", .array(required))])
    }

    /// Every string value in `value` (the random schemas ground all of them).
    static func strings(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let s): return [s]
        case .array(let items): return items.flatMap(strings)
        case .object(let members): return members.flatMap { strings($0.value) }
        default: return []
        }
    }
}

/// A byte-level random walk under `matcher`: a random byte the matcher accepts and after which the output
/// can still complete; nil when no byte can go on (a dead end the matcher should never let happen).
private func byteWalk(_ matcher: GrammarMatcher, rng: inout SeededRandom, limit: Int = 400) -> [UInt8]? {
    var out: [UInt8] = []
    while !matcher.state.isComplete {
        // Stop early sometimes when complete; otherwise a random live byte (closing bytes favoured late).
        if matcher.isAccepting && Bool.random(using: &rng) { break }
        let live = (0...255).map(UInt8.init).filter { byte in
            guard let cost = matcher.completionCost(after: [byte]) else { return false }
            return cost < ByteGrammar.unreachable && out.count + 1 + cost <= limit
        }
        guard !live.isEmpty else { return nil }
        let structural = live.filter { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: "}") }
        let pool = (out.count > 40 && !structural.isEmpty && Int.random(in: 0..<3, using: &rng) == 0) ? structural : live
        guard let byte = pool.randomElement(using: &rng), matcher.accept([byte]) else { return nil }
        out.append(byte)
    }
    return out
}

@Suite("x-from-input: grounded arguments", .serialized)
struct GroundedSpanTests {
    @Test("300 random schemas × requests: every accepted output's strings are spans of the request")
    func randomOutputsAreGrounded() throws {
        var rng = SeededRandom(state: 4242)
        var nonEmpty = 0, impossible = 0
        for index in 0..<300 {
            let request = GroundedFixture.request(&rng)
            let schema = GroundedFixture.schema(&rng)
            let grammar = try ByteGrammar(SchemaCompiler.compile(schema))
            let validator = try SchemaValidator(schema: schema)
            let matcher = GrammarMatcher(grammar: grammar, spans: RequestSpans(request))
            // A required span no substring fits (no `ORD-` number in the request): no output at all, and the
            // matcher says so before the first byte instead of letting a walk run into the wall.
            if matcher.completionCost(matcher.state) == ByteGrammar.unreachable {
                #expect((0...255).allSatisfy { !matcher.canAccept([UInt8($0)]) || matcher.completionCost(after: [UInt8($0)]) == ByteGrammar.unreachable })
                impossible += 1
                continue
            }
            guard let bytes = byteWalk(matcher, rng: &rng) else {
                Issue.record("walk \(index) reached a dead end: \(JSONWriter.compact(schema)) for \(request.debugDescription)")
                continue
            }
            let value = try JSONParser.parse(String(decoding: bytes, as: UTF8.self))
            for string in GroundedFixture.strings(value) {
                #expect(request.utf8.count >= string.utf8.count && SchemaValidatorProbe.occurs(string, in: request),
                        "\(string.debugDescription) is not in \(request.debugDescription)")
                if !string.isEmpty { nonEmpty += 1 }
            }
            #expect(validator.validate(value, origin: .request(request)).isEmpty, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(nonEmpty > 100, "the walks must produce real spans, not only empty strings")
        #expect(impossible < 60, "most random requests must leave some output possible (\(impossible) did not)")
    }

    @Test("values that are not spans of the request are refused by the matcher and by the validator")
    func absentValuesAreRefused() throws {
        var rng = SeededRandom(state: 77)
        let schema = try JSONParser.parse(#"{"type":"object","properties":{"v":{"type":"string","x-from-input":true}},"required":["v"]}"#)
        let grammar = try ByteGrammar(SchemaCompiler.compile(schema))
        let validator = try SchemaValidator(schema: schema)
        var refused = 0
        for _ in 0..<400 {
            let request = GroundedFixture.request(&rng)
            let candidate = GroundedFixture.request(&rng)
            let output = JSONWriter.compact(.object([("v", .string(candidate))]))
            let matcher = GrammarMatcher(grammar: grammar, spans: RequestSpans(request))
            let accepted = matcher.accept(Array(output.utf8)) && matcher.isAccepting
            let present = SchemaValidatorProbe.occurs(candidate, in: request)
            #expect(accepted == present, "\(output) for \(request.debugDescription)")
            let issues = validator.validate(.object([("v", .string(candidate))]), origin: .request(request))
            #expect(issues.isEmpty == present)
            if !present {
                refused += 1
                #expect(issues.first?.schemaPointer == "/properties/v/x-from-input")
                #expect(issues.first?.message.contains("not found in the request") == true)
                #expect(validator.validate(.object([("v", .string(candidate))]), origin: .unrequested).isEmpty)
            }
        }
        #expect(refused > 100)
    }

    @Test("escapes: quotes, backslashes, controls and non-ASCII are matched decoded; no span starts inside an escape")
    func escaping() throws {
        let schema = try JSONParser.parse(#"{"type":"object","properties":{"v":{"type":"string","x-from-input":true}},"required":["v"]}"#)
        let grammar = try ByteGrammar(SchemaCompiler.compile(schema))
        let request = "He said \"hi\" from C:\\temp\nnext line, café 日本 😀\u{01}"
        func accepts(_ output: String) -> Bool {
            let matcher = GrammarMatcher(grammar: grammar, spans: RequestSpans(request))
            return matcher.accept(Array(output.utf8)) && matcher.isAccepting
        }
        for good in [#"{"v":"\"hi\""}"#, #"{"v":"C:\\temp"}"#, #"{"v":"temp\nnext"}"#, #"{"v":"temp\u000anext"}"#,
                     #"{"v":"café 日本 😀"}"#, #"{"v":"😀\u0001"}"#, #"{"v":""}"#] {
            #expect(accepts(good), "\(good)")
        }
        // `nnext` is in the escaped text (`\nnext`) but not in the request; `\u0041` is not canonical.
        for bad in [#"{"v":"nnext"}"#, #"{"v":"said \"ho"}"#, #"{"v":"C:\temp"}"#, #"{"v":"\u0041"}"#, #"{"v":"cafe"}"#, #"{"v":"😁"}"#] {
            #expect(!accepts(bad), "\(bad)")
        }
    }

    @Test("a span must also satisfy its pattern: dead ends inside the span have no completion")
    func patternAndSpan() throws {
        let schema = try JSONParser.parse(#"{"type":"object","properties":{"id":{"type":"string","x-from-input":true,"pattern":"^ORD-[0-9]{4}$"}},"required":["id"]}"#)
        let grammar = try ByteGrammar(SchemaCompiler.compile(schema))
        let request = "not ORD-12 but ORD-3456, or ORD-98765"
        let matcher = GrammarMatcher(grammar: grammar, spans: RequestSpans(request))
        #expect(matcher.canAccept(Array(#"{"id":"ORD-3456"}"#.utf8)))
        #expect(!matcher.canAccept(Array(#"{"id":"ORD-1234"}"#.utf8)))
        #expect(!matcher.canAccept(Array(#"{"id":"ORD-12""#.utf8)), "the pattern refuses two digits")
        // After "ORD-12" the request goes on with a space: no way to four digits, so no completion at all.
        #expect(matcher.completionCost(after: Array(#"{"id":"ORD-12"#.utf8)) == ByteGrammar.unreachable)
        #expect(matcher.completionCost(after: Array(#"{"id":"ORD-3"#.utf8)) == 5)
        // ORD-9876 is a substring of ORD-98765 and fits the pattern, but it ends inside a word: refused.
        #expect(!matcher.canAccept(Array(#"{"id":"ORD-9876""#.utf8)))
        // And so ORD-98… has no completion at all: five digits break the pattern, four end inside a word.
        #expect(matcher.completionCost(after: Array(#"{"id":"ORD-98"#.utf8)) == ByteGrammar.unreachable)
    }

    @Test("a tool whose required grounded argument the request cannot fill is refused from its name on")
    func infeasibleToolIsRefused() throws {
        let catalogue = try GroundedFixture.support()
        let grammar = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: catalogue)))
        let without = GrammarMatcher(grammar: grammar, spans: RequestSpans("I want my money back, the blender broke"))
        for tool in ["track_order", "request_refund", "update_address"] {
            #expect(!without.canAccept(Array(#"{"tool":"\#(tool)""#.utf8)), "\(tool)")
        }
        #expect(without.canAccept(Array(#"{"tool":"escalate""#.utf8)))
        #expect(without.canAccept(Array(#"{"tool":"no_tool""#.utf8)))
        let with = GrammarMatcher(grammar: grammar, spans: RequestSpans("Refund ORD-1234, the blender broke"))
        #expect(with.canAccept(Array(#"{"tool":"request_refund","arguments":{"order_id":"ORD-1234","reason":"the blender broke"}}"#.utf8)))
        #expect(!with.canAccept(Array(#"{"tool":"request_refund","arguments":{"order_id":"ORD-2345""#.utf8)))
        // Without a request the grammar alone decides (nothing to ground in).
        #expect(GrammarMatcher(grammar: grammar).canAccept(Array(#"{"tool":"track_order","arguments":{"order_id":"ORD-2345"}}"#.utf8)))
    }

    @Test("token masks at grounded steps equal the per-token check, per request, with the shared cache in use")
    func masksMatchTokens() throws {
        let vocabulary = try GroundedFixture.vocabulary.get()
        let grammar = try ByteGrammar(SchemaCompiler.compile(ToolCall.outputSchema(for: GroundedFixture.support())))
        grammar.prepareMasks(for: vocabulary)
        let prefixes = [#"{"tool":""#, #"{"tool":"request_refund","arguments":{"order_id":""#,
                        #"{"tool":"request_refund","arguments":{"order_id":"ORD-12"#,
                        #"{"tool":"request_refund","arguments":{"order_id":"ORD-1234","reason":"the"#]
        // Two requests in turn on the same grammar: the second must not see the first's masks.
        for request in ["Refund ORD-1234, the blender broke", "Refund ORD-1299 please, the \"lid\" cracked", "hello there"] {
            var mask = TokenMask(count: 0)
            for prefix in prefixes {
                let matcher = GrammarMatcher(grammar: grammar, spans: RequestSpans(request))
                guard matcher.accept(Array(prefix.utf8)) else { continue }
                matcher.allowedTokens(vocabulary, into: &mask)
                let expected = (0..<vocabulary.count).filter { matcher.allows(token: $0, in: vocabulary) }
                #expect(mask.allowedIDs == expected, "\(request) after \(prefix): \(mask.allowedCount) vs \(expected.count)")
            }
        }
    }
}

/// The word-boundary rule, restated for the tests over Unicode scalars (the code under test works on
/// bytes): a span starts at a non-space scalar that is no word character or follows none, and ends
/// after a non-space scalar that is no word character or precedes none.
enum SchemaValidatorProbe {
    static func occurs(_ needle: String, in haystack: String) -> Bool {
        let n = Array(needle.unicodeScalars), h = Array(haystack.unicodeScalars)
        if n.isEmpty { return true }
        guard n.count <= h.count else { return false }
        func word(_ k: Int) -> Bool { h[k] == "_" || h[k].properties.isAlphabetic || h[k].properties.numericType != nil }
        func space(_ k: Int) -> Bool { h[k].properties.isWhitespace }
        return (0...(h.count - n.count)).contains { a in
            let b = a + n.count - 1
            guard Array(h[a...b]) == n, !space(a), !space(b) else { return false }
            return (!word(a) || a == 0 || !word(a - 1)) && (!word(b) || b == h.count - 1 || !word(b + 1))
        }
    }
}

@Suite("x-from-input: word boundaries")
struct GroundedBoundaryTests {
    static let request = "the (garage) and Emma's room, kitchen: ORD-98765 #12 in Zürich 日本 café."

    @Test("whole words and punctuation-led values are spans; cuts inside words and edge spaces are not")
    func examples() throws {
        let schema = try JSONParser.parse(#"{"type":"object","properties":{"v":{"type":"string","x-from-input":true}},"required":["v"]}"#)
        let grammar = try ByteGrammar(SchemaCompiler.compile(schema))
        let validator = try SchemaValidator(schema: schema)
        let spans = RequestSpans(Self.request)
        func accepted(_ value: String) -> Bool {
            let matcher = GrammarMatcher(grammar: grammar, spans: spans)
            return matcher.accept(Array(JSONWriter.compact(.object([("v", .string(value))])).utf8)) && matcher.isAccepting
        }
        for good in ["kitchen", "Emma's room", "room,", "(garage)", "garage", "ORD-98765", "98765", "#12", "Zürich", "日本 café.", "café", "Emma", "s room",
                     "the (garage) and Emma's room, kitchen: ORD-98765 #12 in Zürich 日本 café.", ""] {
            #expect(accepted(good), "\(good)")
            #expect(validator.validate(.object([("v", .string(good))]), origin: .request(Self.request)).isEmpty, "\(good)")
            #expect(spans.contains(Array(good.utf8)), "\(good)")
        }
        for bad in ["itchen", "kitche", " kitchen", "and ", "mma", "Emm", "ORD-9876", "RD-98765", "ürich", "caf", "he"] {
            #expect(!accepted(bad), "\(bad)")
            let issues = validator.validate(.object([("v", .string(bad))]), origin: .request(Self.request))
            #expect(issues.first?.message == "\(JSONWriter.quoted(bad)) not found in the request as whole words", "\(bad)")
            #expect(!spans.contains(Array(bad.utf8)), "\(bad)")
        }
    }

    @Test("the automaton, the validator's rule and the scalar restatement agree on every byte range of 40 requests")
    func exhaustive() {
        var rng = SeededRandom(state: 9001)
        let requests = [Self.request, "Emma's", "  x  ", "a_b c'd 'e' ’quoted’ don’t"] + (0..<36).map { _ in GroundedFixture.request(&rng) }
        var admitted = 0
        for request in requests {
            let bytes = Array(request.utf8)
            let spans = RequestSpans(request), boundaries = SpanBoundaries(request)
            for a in 0..<bytes.count {
                for b in (a + 1)...bytes.count {
                    let piece = Array(bytes[a..<b])
                    let expected = String(validating: piece, as: UTF8.self).map { SchemaValidatorProbe.occurs($0, in: request) }
                    #expect(boundaries.admits(piece) == (expected ?? false), "\(request.debugDescription) [\(a)..<\(b)]")
                    if let expected {
                        #expect(spans.contains(piece) == expected, "\(request.debugDescription) [\(a)..<\(b)]")
                        if expected { admitted += 1 }
                    }
                }
            }
        }
        #expect(admitted > 500)
    }
}
