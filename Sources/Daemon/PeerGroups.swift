// A peer's supplementary groups, for `allowed_gids`: SO_PEERCRED carries only the primary gid, but the
// usual way to grant access is `usermod -aG group user`, which adds a supplementary group.
//
// SO_PEERGROUPS (Linux 4.13+) returns the groups the peer had when it connected, as an array of gid_t.
// SwiftNIO reads socket options into a zero-filled value of a fixed type and does not return the length the
// kernel wrote, so the buffer below is a fixed 1,024 gids and the zeros after the last group written are
// padding. The kernel writes the groups in ascending order, so trailing zeros are dropped; when nothing but
// zeros came back (no groups, or only group 0), or the call failed (older kernel, more than 1,024 groups),
// the `Groups:` line of /proc/<pid>/status answers instead.

import Foundation
import NIOCore

enum PeerGroups {
    /// `SO_PEERGROUPS` from <asm-generic/socket.h> (the same on x86-64 and arm64).
    static let option: Int32 = 59
    /// Gids the fixed buffer holds.
    static let capacity = 1024

    /// The peer's supplementary groups by SO_PEERGROUPS; nil when the kernel would not say, or when the
    /// answer is ambiguous (all zeros).
    static func read(_ provider: any SocketOptionProvider) -> [UInt32]? {
        let future: EventLoopFuture<GroupBuffer> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                                  name: SocketOptionName(option))
        // Read on the channel's event loop, so the future is already complete (see ConnectionGate.credentials).
        let box = GroupsBox()
        future.whenSuccess { buffer in
            box.value = withUnsafeBytes(of: buffer) { raw in
                (0..<capacity).map { raw.load(fromByteOffset: $0 * 4, as: UInt32.self) }
            }
        }
        return box.value.flatMap(decode)
    }

    /// The groups in a zero-padded SO_PEERGROUPS buffer: everything up to the last non-zero gid; nil when
    /// every entry is zero (no groups, or only group 0: the padding cannot tell).
    static func decode(_ raw: [UInt32]) -> [UInt32]? {
        guard let last = raw.lastIndex(where: { $0 != 0 }) else { return nil }
        return Array(raw[...last])
    }

    /// The `Groups:` line of /proc/<pid>/status (nil if unreadable, e.g. the process is gone or hidden).
    static func fromProc(pid: Int32) -> [UInt32]? {
        guard pid > 0, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parseStatus(status)
    }

    /// The gids on the `Groups:` line of a /proc status file.
    static func parseStatus(_ status: String) -> [UInt32]? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return nil }
        return line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
    }
}

/// Carries the groups out of the (synchronously completed) future; only touched on the event loop.
private final class GroupsBox: @unchecked Sendable {
    var value: [UInt32]?
}

/// 16 gids.
private struct GIDs16 { var gids: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                                   UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) }
/// 256 gids.
private struct GIDs256 { var blocks: (GIDs16, GIDs16, GIDs16, GIDs16, GIDs16, GIDs16, GIDs16, GIDs16,
                                      GIDs16, GIDs16, GIDs16, GIDs16, GIDs16, GIDs16, GIDs16, GIDs16) =
    (GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(),
     GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16(), GIDs16()) }
/// The SO_PEERGROUPS buffer: `PeerGroups.capacity` (1,024) gids, 4 KiB.
private struct GroupBuffer: Sendable { var blocks: (GIDs256, GIDs256, GIDs256, GIDs256) = (GIDs256(), GIDs256(), GIDs256(), GIDs256()) }
