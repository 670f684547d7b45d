import Testing
@testable import TokenMatcher
@Test func placeholder() { #expect(Bool(true)) }
