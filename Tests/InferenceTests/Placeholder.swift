import Testing
@testable import Inference
@Test func placeholder() { #expect(Bool(true)) }
