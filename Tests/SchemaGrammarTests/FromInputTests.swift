// The one extension keyword, `x-from-input`: accepted only as a boolean on a plain string schema,
// compiled into a marked rule holding the text between the quotes, invisible to everything else.

import Grammar
import JSON
import SchemaGrammar
import Testing

@Suite struct FromInputTests {
    static let marked = #"{"type":"object","properties":{"id":{"type":"string","x-from-input":true,"pattern":"^ORD-[0-9]{4}$"},"#
        + #""tags":{"type":"array","items":{"type":"string","x-from-input":true,"maxLength":8}},"note":{"type":"string"}},"required":["id"]}"#

    @Test func markedStringsBecomeGroundedRules() throws {
        let grammar = try compile(Self.marked)
        #expect(grammar.groundedRules.count == 2)
        for name in grammar.groundedRules {
            // The marked rule is the text between the quotes: it is referenced right after a quote.
            let body = try #require(grammar.rule(named: name)?.body)
            if case .sequence(let parts) = body { #expect(parts.first != .literal("\"")) }
        }
        // The same strings, accepted and refused, with or without the mark: the grammar language is unchanged.
        let plain = try compile(Self.marked.replacing(#","x-from-input":true"#, with: ""))
        #expect(plain.groundedRules.isEmpty)
        for text in [#"{"id":"ORD-1234"}"#, #"{"id":"ORD-1234","tags":["a\"b","c"],"note":"x"}"#] {
            #expect(try GrammarRecognizer(grammar).matches(text) && GrammarRecognizer(plain).matches(text), "\(text)")
        }
        #expect(try !GrammarRecognizer(grammar).matches(#"{"id":"ORD-12"}"#))
    }

    @Test func falseChangesNothing() throws {
        let plain = try compile(#"{"type":"string","maxLength":5}"#)
        let off = try compile(#"{"type":"string","maxLength":5,"x-from-input":false}"#)
        #expect(off == plain)
    }

    @Test(arguments: [
        (#"{"type":"string","x-from-input":"yes"}"#, "/x-from-input", "must be true or false"),
        (#"{"type":"integer","x-from-input":true}"#, "/x-from-input", "only on a schema with \"type\": \"string\""),
        (#"{"x-from-input":true}"#, "/x-from-input", "only on a schema"),
        (#"{"type":"string","enum":["a","b"],"x-from-input":true}"#, "/x-from-input", "cannot be combined with enum"),
        (#"{"type":"object","properties":{"a":{"type":"string","x-from-input":1}}}"#, "/properties/a/x-from-input", "true or false"),
    ])
    func misuseNamesThePointer(_ schema: String, _ pointer: String, _ reason: String) throws {
        let error = try compileError(schema)
        guard case .invalidSchema(let where_, let why)? = error else { Issue.record("\(schema): \(String(describing: error))"); return }
        #expect(where_ == pointer)
        #expect(why.contains(reason), "\(why)")
    }

    @Test func otherExtensionKeywordsStillFailClosed() throws {
        #expect(try compileError(#"{"type":"string","x-from-output":true}"#)
                == .unsupportedKeyword(keyword: "x-from-output", pointer: "/x-from-output"))
    }
}
