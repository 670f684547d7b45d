import Testing
@testable import ToolCalls
@Test func placeholder() { #expect(Bool(true)) }
