import Testing
@testable import Tokenizer

/// One tokenizer shared by many tasks at once gives the same results as used alone.
@Suite struct ConcurrencyTests {
    @Test func parallelEncodingMatchesSerialEncoding() async throws {
        let tokenizer = try TestModel.tokenizer()
        let cases = try Fixtures.tokenizerCases()
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var bad = 0
                    for item in cases.shuffled() where tokenizer.encode(item.text, parseSpecial: item.parseSpecial) != item.ids {
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
