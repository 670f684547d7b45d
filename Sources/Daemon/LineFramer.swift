// Splits a byte stream into newline-terminated lines with a cap on line length.
//
// A line longer than the cap is reported once, as soon as the cap is passed, and the rest of it is
// thrown away up to its newline; the line after it is framed normally, so the connection stays
// usable and no tail of an oversized line is ever mistaken for a request.

/// One result of framing.
public enum FramedLine: Sendable, Equatable {
    /// A complete line, without its `\n` and without a trailing `\r`; never empty.
    case line([UInt8])
    /// A line passed `maxLineBytes`. The count is the bytes seen when that was noticed: the whole
    /// line when its newline arrived in the same chunk, else at least `maxLineBytes + 1`.
    case tooLong(byteCount: Int)
}

/// Incremental newline framing for one connection.
public struct LineFramer: Sendable {
    /// The longest line accepted, in bytes, not counting the `\n` or a trailing `\r`.
    public let maxLineBytes: Int
    /// Bytes of the current, unfinished line (at most `maxLineBytes + 1`).
    private var pending: [UInt8] = []
    /// True while skipping the rest of an oversized line.
    private var discarding = false

    /// A framer for lines of at most `maxLineBytes` bytes (at least 1).
    public init(maxLineBytes: Int) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// Bytes held for the unfinished line.
    public var bufferedByteCount: Int { pending.count }

    /// True while the rest of an oversized line is being discarded.
    public var isDiscarding: Bool { discarding }

    /// Feeds bytes read from the connection; returns the lines they complete, in order.
    /// Empty lines (including a lone `\r`) are skipped.
    public mutating func append(_ bytes: some Collection<UInt8>) -> [FramedLine] {
        let chunk = bytes.withContiguousStorageIfAvailable { Self.frame(Slice(base: $0, bounds: $0.indices), into: &self) }
        if let chunk { return chunk }
        let copy = Array(bytes)
        return copy.withUnsafeBufferPointer { Self.frame(Slice(base: $0, bounds: $0.indices), into: &self) }
    }

    private static func frame(_ chunk: Slice<UnsafeBufferPointer<UInt8>>, into framer: inout LineFramer) -> [FramedLine] {
        var lines: [FramedLine] = []
        var start = chunk.startIndex
        while start < chunk.endIndex {
            let rest = chunk[start...]
            guard let newline = rest.firstIndex(of: 0x0A) else {
                framer.hold(rest, lines: &lines)
                break
            }
            if framer.discarding {
                framer.discarding = false
            } else {
                framer.finish(chunk[start..<newline], lines: &lines)
            }
            start = newline + 1
        }
        return lines
    }

    /// Keeps the start of an unfinished line, or reports it once it cannot fit.
    private mutating func hold(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, lines: inout [FramedLine]) {
        guard !discarding else { return }
        let total = pending.count + bytes.count
        // One byte of slack: a line of exactly maxLineBytes may still end with "\r\n".
        if total > maxLineBytes + 1 || (total == maxLineBytes + 1 && bytes.last != 0x0D) {
            lines.append(.tooLong(byteCount: total))
            pending.removeAll(keepingCapacity: false)
            discarding = true
        } else {
            pending.append(contentsOf: bytes)
        }
    }

    /// Completes the current line with the bytes before its newline.
    private mutating func finish(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, lines: inout [FramedLine]) {
        var count = pending.count + bytes.count
        let endsWithCR = (bytes.last ?? pending.last) == 0x0D
        if endsWithCR { count -= 1 }
        if count > maxLineBytes {
            lines.append(.tooLong(byteCount: count))
        } else if count > 0 {
            var line = pending
            line.append(contentsOf: bytes)
            if endsWithCR { line.removeLast() }
            lines.append(.line(line))
        }
        pending.removeAll(keepingCapacity: true)
    }
}
