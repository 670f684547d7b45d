import Testing
@testable import GGUF
@Test func placeholder() { #expect(Bool(true)) }
