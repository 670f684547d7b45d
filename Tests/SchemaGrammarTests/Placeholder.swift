import Testing
@testable import SchemaGrammar
@Test func placeholder() { #expect(Bool(true)) }
