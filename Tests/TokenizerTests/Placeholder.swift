import Testing
@testable import Tokenizer
@Test func placeholder() { #expect(Bool(true)) }
