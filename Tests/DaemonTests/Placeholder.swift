import Testing
@testable import Daemon
@Test func placeholder() { #expect(Bool(true)) }
