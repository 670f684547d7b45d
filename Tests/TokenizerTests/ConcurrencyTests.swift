import Testing
import TestSupport
@testable import Tokenizer

/// One tokenizer shared by many tasks at once gives the same results as used alone.
@Suite struct ConcurrencyTests {
    @Test func parallelEncodingMatchesSerialEncoding() async throws {
        let tokenizer = try TestModel.tokenizer()
        let cases = try Fixtures.tokenizerCases()
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var bad = 0
                    var order = SeededRandom(state: 0x70C3_0000 + UInt64(task))   // each task its own, reproducible order
                    for item in cases.shuffled(using: &order) where tokenizer.encode(item.text, parseSpecial: item.parseSpecial) != item.ids {
                        bad += 1
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
