import Foundation
import GGUF
import Testing
import TestSupport
@testable import Tokenizer

/// A long text through the tokenizer: its length in tokens is plausible and it comes back byte for byte,
/// whole and streamed. How fast is `toolrouter bench tokenizer`'s question (a release build's numbers),
/// not the tests'.
@Suite struct LongTextTests {
    /// Several hundred tokens of plain English: every request of the support dev set, a line each.
    static let english: String = {
        let path = TestPaths.packageRoot.appendingPathComponent("training/gold/support.dev.jsonl").path
        let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
        return lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))).flatMap { ($0 as? [String: Any])?["prompt"] as? String }
        }.joined(separator: "\n")
    }()

    @Test func encodingSeveralHundredTokensOfEnglish() throws {
        let tokenizer = try TestModel.tokenizer()
        let ids = tokenizer.encode(LongTextTests.english, parseSpecial: true)
        let bytes = LongTextTests.english.utf8.count
        #expect(ids.count >= 500 && ids.count >= bytes / 6 && ids.count <= bytes / 2, "\(ids.count) tokens for \(bytes) bytes")
        #expect(try tokenizer.decode(ids) == Array(LongTextTests.english.utf8))
        #expect(tokenizer.encode(LongTextTests.english, parseSpecial: false) == ids, "no control tokens in plain English")
    }

    @Test func streamingDecodeGivesTheTextBack() throws {
        let tokenizer = try TestModel.tokenizer()
        let ids = tokenizer.encode(LongTextTests.english, parseSpecial: true)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var text = ""
        for id in ids { text += try decoder.feed(id) }
        text += decoder.finish()
        #expect(text == LongTextTests.english)
    }
}
