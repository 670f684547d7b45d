// Mutated documents: the parser never crashes, every error points inside the document, and
// whatever it accepts survives a write/parse round trip unchanged.

import Testing
import JSON

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct RobustnessTests {
    static let seedDocument = Array(#"{"tool":"a\"b\\\u00e9\uD83D\uDE00","arguments":{"n":[1,-2.5e+3,0.0,true,false,null],"s":"é😀\n","o":{}}}"#.utf8)
    static let interesting: [UInt8] = Array("{}[],:\"\\/-+.eE0123456789tfnurl \t\n".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]

    @Test func mutatedDocumentsNeverCrash() throws {
        var random = SplitMix(state: 0x5EED)
        var accepted = 0
        for _ in 0..<5_000 {
            var bytes = Self.seedDocument
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[position] = Self.interesting.randomElement(using: &random) ?? 0
                case 1: bytes.insert(Self.interesting.randomElement(using: &random) ?? 0, at: position)
                default: if bytes.count > 1 { bytes.remove(at: position) }
                }
            }
            do {
                let value = try JSONParser.parse(bytes: bytes)
                accepted += 1
                let written = JSONWriter.compact(value)
                #expect(try JSONParser.parse(written) == value)
                #expect(JSONWriter.compact(try JSONParser.parse(written)) == written)
            } catch {
                if let location = error.location {
                    #expect(location.offset >= 0 && location.offset <= bytes.count, "\(error)")
                    #expect(location.line >= 1 && location.column >= 1)
                }
            }
        }
        #expect(accepted > 0)
    }

    @Test func everyTruncationIsRejected() {
        let bytes = Self.seedDocument
        for length in 0..<bytes.count {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes: bytes[0..<length]) }
        }
    }
}
