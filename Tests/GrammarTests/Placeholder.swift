import Testing
@testable import Grammar
@Test func placeholder() { #expect(Bool(true)) }
