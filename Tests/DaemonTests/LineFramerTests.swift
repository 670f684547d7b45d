import Testing
import TestSupport
@testable import Daemon

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct LineFramerTests {
    @Test func wholeLinesInOneChunk() {
        var framer = LineFramer(maxLineBytes: 100)
        #expect(framer.append(bytes("{\"a\":1}\n{\"b\":2}\n")) == [.line(bytes("{\"a\":1}")), .line(bytes("{\"b\":2}"))])
        #expect(framer.bufferedByteCount == 0)
    }

    @Test func byteByByteGivesTheSameLines() {
        let stream = bytes("first\r\nsecond\n\n\r\nthird\npartial")
        var framer = LineFramer(maxLineBytes: 100)
        var lines: [FramedLine] = []
        for byte in stream { lines += framer.append([byte]) }
        #expect(lines == [.line(bytes("first")), .line(bytes("second")), .line(bytes("third"))])
        #expect(framer.bufferedByteCount == 7)
        #expect(framer.append(bytes("\n")) == [.line(bytes("partial"))])
    }

    @Test func everySplitPointGivesTheSameLines() {
        let stream = bytes("alpha\r\nbeta\ngamma\r\n")
        let expected: [FramedLine] = [.line(bytes("alpha")), .line(bytes("beta")), .line(bytes("gamma"))]
        for cut in 0...stream.count {
            var framer = LineFramer(maxLineBytes: 5)
            let lines = framer.append(stream[..<cut]) + framer.append(stream[cut...])
            #expect(lines == expected, "split at \(cut)")
        }
    }

    @Test func crOnlyStrippedAtTheEnd() {
        var framer = LineFramer(maxLineBytes: 100)
        #expect(framer.append(bytes("a\rb\r\r\n")) == [.line(bytes("a\rb\r"))])
    }

    @Test func lineOfExactlyTheLimitFitsWithCRLF() {
        var framer = LineFramer(maxLineBytes: 4)
        var lines: [FramedLine] = []
        for byte in bytes("abcd\r\nabcd\n") { lines += framer.append([byte]) }
        #expect(lines == [.line(bytes("abcd")), .line(bytes("abcd"))])
    }

    @Test func oversizedLineThenGoodLineInOneChunk() {
        var framer = LineFramer(maxLineBytes: 8)
        let lines = framer.append(bytes("0123456789abcdef\n{\"ok\":1}\n"))
        #expect(lines == [.tooLong(byteCount: 16), .line(bytes("{\"ok\":1}"))])
    }

    @Test func oversizedLineAcrossChunksIsReportedOnceAndItsTailDiscarded() {
        var framer = LineFramer(maxLineBytes: 8)
        #expect(framer.append(bytes("01234")) == [])
        #expect(framer.append(bytes("56789")) == [.tooLong(byteCount: 10)])
        #expect(framer.isDiscarding)
        #expect(framer.bufferedByteCount == 0)
        // The tail looks like a request but belongs to the oversized line.
        #expect(framer.append(bytes("{\"jsonrpc\":\"2.0\"}")) == [])
        #expect(framer.bufferedByteCount == 0)
        #expect(framer.append(bytes("\n{\"a\":1}\n")) == [.line(bytes("{\"a\":1}"))])
        #expect(!framer.isDiscarding)
    }

    @Test func bufferNeverExceedsTheLimitPlusOne() {
        var framer = LineFramer(maxLineBytes: 64)
        var generator = SeededRandom(state: 0x11FE)
        for _ in 0..<2000 {
            let chunk = (0..<Int.random(in: 1...40, using: &generator)).map { _ in
                Bool.random(using: &generator) && Int.random(in: 0..<20, using: &generator) == 0 ? UInt8(0x0A) : UInt8.random(in: 0x20...0x7E, using: &generator)
            }
            for line in framer.append(chunk) {
                if case .line(let content) = line { #expect(content.count <= 64 && !content.isEmpty) }
            }
            #expect(framer.bufferedByteCount <= 65)
        }
    }

    @Test func binaryGarbageIsFramedNotInterpreted() {
        var framer = LineFramer(maxLineBytes: 16)
        let garbage: [UInt8] = [0x00, 0xFF, 0xFE, 0x0D, 0x80, 0x0A, 0xC3, 0x28, 0x0A]
        #expect(framer.append(garbage) == [.line([0x00, 0xFF, 0xFE, 0x0D, 0x80]), .line([0xC3, 0x28])])
    }

    @Test func worksOnNonContiguousCollections() {
        var framer = LineFramer(maxLineBytes: 16)
        let lazy = bytes("ab\ncd\n").lazy.map { $0 }
        #expect(framer.append(lazy) == [.line(bytes("ab")), .line(bytes("cd"))])
    }
}
