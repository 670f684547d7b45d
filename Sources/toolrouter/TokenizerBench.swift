// `toolrouter bench tokenizer`: how long the tokenizer takes to load from the GGUF file, to encode about
// 700 tokens of plain English, and to stream-decode them back. Timings live here, in a release build's
// benchmark, not in the test suite: a wall-clock bound in a test fails on a busy machine for no fault of
// the code, and passes on a fast one whatever the code does.

import ArgumentParser
import Foundation
import GGUF
import Inference
import Tokenizer

struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer load time, encode and stream-decode time for ~700 tokens of English (best of N).")

    @Option(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Option(help: "Repetitions; the best is reported.")
    var repeats: Int = 20

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let path = try ModelLocator.resolve(model)
        _ = try BPETokenizer(gguf: GGUFFile(path: path))   // warm the file cache and the Unicode tables
        var bestOpen = Double.infinity, bestBuild = Double.infinity
        var tokenizer: BPETokenizer?
        for _ in 0..<3 {
            let t0 = MonotonicClock.now()
            let file = try GGUFFile(path: path)
            let t1 = MonotonicClock.now()
            tokenizer = try BPETokenizer(gguf: file)
            let t2 = MonotonicClock.now()
            bestOpen = min(bestOpen, t1 - t0)
            bestBuild = min(bestBuild, t2 - t1)
        }
        guard let tokenizer else { throw CLIError("the tokenizer did not load") }

        let text = Self.english
        var ids: [Int] = []
        var bestEncode = Double.infinity, bestDecode = Double.infinity
        for _ in 0..<max(1, repeats) {
            let t0 = MonotonicClock.now()
            ids = tokenizer.encode(text, parseSpecial: false)
            bestEncode = min(bestEncode, MonotonicClock.now() - t0)
            let t1 = MonotonicClock.now()
            var decoder = StreamingDecoder(tokenizer: tokenizer, renderControlTokens: false)  // no BOS text (Gemma adds BOS)
            var decoded = ""
            for id in ids { decoded += try decoder.feed(id) }
            decoded += decoder.finish()
            bestDecode = min(bestDecode, MonotonicClock.now() - t1)
            guard decoded == text else { throw CLIError("stream-decoding did not give the text back") }
        }
        if json {
            print(String(format: "{\"open_ms\": %.3f, \"build_ms\": %.3f, \"tokens\": %d, \"bytes\": %d, \"encode_ms\": %.3f, \"stream_decode_ms\": %.3f}",
                         bestOpen * 1000, bestBuild * 1000, ids.count, text.utf8.count, bestEncode * 1000, bestDecode * 1000))
        } else {
            print(String(format: "GGUF open + metadata:   %.2f ms (best of 3)", bestOpen * 1000))
            print(String(format: "tokenizer build:        %.2f ms (best of 3)", bestBuild * 1000))
            print(String(format: "encode %d tokens:      %.3f ms (%d bytes, best of %d)", ids.count, bestEncode * 1000, text.utf8.count, repeats))
            print(String(format: "stream-decode:          %.3f ms (best of %d)", bestDecode * 1000, repeats))
        }
    }

    /// About 700 tokens: two copies of a paragraph of plain English.
    static let english: String = {
        let paragraph = """
        The customer wrote in on Tuesday morning to ask where her order had gone. She had placed it \
        nine days earlier, paid for express shipping, and received a confirmation email with a tracking \
        link that, she said, still showed the parcel sitting in a warehouse outside Rotterdam. Our support \
        assistant looked the order up, saw that the carrier had scanned it twice since, and explained that \
        the tracking page she was looking at belonged to the first leg of the journey only. It then offered \
        three options: wait for the delivery, which the carrier now expected on Friday; change the delivery \
        address to a pickup point near her office; or cancel the order and receive a full refund within five \
        working days. She chose the pickup point, asked whether the express shipping fee would be refunded \
        given the delay, and was told that it would be, automatically, once the parcel was collected. \
        Later that afternoon a second customer asked a question of a rather different kind. He wanted to know \
        whether the warranty on his coffee grinder covered a burr set that had worn out after eighteen months \
        of daily use, or whether wear parts were excluded. The assistant found the warranty terms for his \
        model, quoted the relevant clause, and pointed out that burrs were listed as consumables, but that the \
        manufacturer sold replacement sets and published a short guide to fitting them. He thanked it, said he \
        had not realised the burrs could be replaced at home, and ordered a set. Neither conversation needed a \
        human agent, and both ended with the customer getting what they actually wanted, which is the whole \
        point of routing requests to the right tool in the first place. Small models can do this well when the \
        tools are described clearly, the outputs are constrained to valid calls, and the prompts are short.
        """
        return paragraph + "\n\n" + paragraph
    }()
}
