// One SHA-256 for every content hash the project records: catalogue fingerprints, the training data's hash on an
// adapter's card, the trainer venv's requirements marker. Each is compared as 64 lowercase hex digits.

import Crypto
import Foundation

/// SHA-256 digests as lowercase hex (swift-crypto's implementation).
public enum ContentHash {
    /// SHA-256 of `bytes` as 64 lowercase hex digits.
    public static func sha256Hex<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
