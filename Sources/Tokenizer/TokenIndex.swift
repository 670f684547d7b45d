/// An immutable map from the bytes of a vocabulary string to its token id.
///
/// SentencePiece merging asks "is this run of bytes a token, and which?" for every candidate pair,
/// millions of times a second; a `[String: Int]` would hash and compare `String`s (and build one per
/// question). This is an open-addressing hash table over one flat byte buffer instead: a lookup
/// hashes the bytes in place and allocates nothing. Building it for 262,144 strings takes a few
/// milliseconds.
struct TokenIndex: Sendable {
    /// Every token's bytes, concatenated; token `i` is `storage[starts[i]..<starts[i + 1]]`.
    private let storage: [UInt8]
    private let starts: [Int]
    /// `slots[h]` is a token id + 1, or 0 for an empty slot. The count is a power of two.
    private let slots: [Int32]

    /// Indexes `tokens` by their UTF-8 bytes. When a string occurs twice, the later id wins (as in
    /// llama.cpp's `token_to_id` map).
    init(tokens: [String]) {
        var storage: [UInt8] = []
        storage.reserveCapacity(tokens.count * 8)
        var starts: [Int] = [0]
        starts.reserveCapacity(tokens.count + 1)
        for token in tokens {
            storage.append(contentsOf: token.utf8)
            starts.append(storage.count)
        }
        var capacity = 16
        while capacity < tokens.count * 2 { capacity *= 2 }
        var slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        storage.withUnsafeBufferPointer { bytes in
            for id in 0..<tokens.count {
                let text = UnsafeBufferPointer(rebasing: bytes[starts[id]..<starts[id + 1]])
                var slot = Int(truncatingIfNeeded: TokenIndex.hash(text)) & mask
                while slots[slot] != 0 {
                    let other = Int(slots[slot] - 1)
                    if bytes[starts[other]..<starts[other + 1]].elementsEqual(text) { break }
                    slot = (slot + 1) & mask
                }
                slots[slot] = Int32(id + 1)  // a duplicate string takes over its earlier id's slot
            }
        }
        self.storage = storage
        self.starts = starts
        self.slots = slots
    }

    /// The id of the token whose string is exactly `bytes`, if any.
    @inline(__always)
    func id(of bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: TokenIndex.hash(bytes)) & mask
        return storage.withUnsafeBufferPointer { storage in
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                let id = Int(entry - 1)
                let start = starts[id]
                if starts[id + 1] - start == bytes.count {
                    var offset = 0
                    while offset < bytes.count && storage[start + offset] == bytes[offset] { offset += 1 }
                    if offset == bytes.count { return Int32(id) }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// The id of the token whose string is exactly `text`, if any.
    func id(of text: String) -> Int32? {
        var text = text
        return text.withUTF8 { id(of: $0) }
    }

    /// FNV-1a over the bytes.
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}
