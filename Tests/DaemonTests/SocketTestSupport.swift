// What the socket-hardening tests need beyond `AgentClient`: a raw client that can half-close and write
// without blocking, a `toolrouter serve` child on temporary sockets, and the child's RSS and CPU time
// read from /proc.

import Foundation
import TestSupport
@testable import Daemon

/// A Unix stream socket client with the operations `AgentClient` does not offer: `shutdown(SHUT_WR)`,
/// non-blocking writes, and telling end-of-stream apart from a timeout.
final class RawSocket: @unchecked Sendable {
    /// The connected descriptor (closed on deinit).
    let fd: Int32
    private var reader = LineReader()

    /// Connects to `path`.
    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connect(path: path, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ClientError.connect(path: path, reason: reason)
        }
    }

    deinit { close(fd) }

    /// Writes all of `bytes`, blocking as needed.
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw ClientError.io(String(cString: strerror(errno))) }
            offset += n
        }
    }

    /// Writes what fits without blocking; the byte count (0 when the socket is full).
    func writeWithoutBlocking(_ bytes: [UInt8]) throws -> Int {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
            throw ClientError.io(String(cString: strerror(errno)))
        }
        return n
    }

    /// Tells the daemon no more requests follow (`shutdown(SHUT_WR)`); reading still works.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The next line, nil at end of stream (or reset); throws `ClientError.timedOut` after `timeout` seconds.
    func readLine(timeout: Double) throws -> String? {
        try reader.next(from: fd, timeout: timeout, resetIsEnd: true)
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    @discardableResult func add(_ n: Int = 1) -> Int { lock.lock(); defer { lock.unlock() }; value += n; return value }
    var current: Int { lock.lock(); defer { lock.unlock() }; return value }
}

/// Figures of a process read from /proc.
enum ProcStats {
    /// VmRSS in bytes (0 if unreadable).
    static func residentBytes(pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }

    /// User plus system CPU time in seconds.
    static func cpuSeconds(pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Open descriptors of `pid`.
    static func openDescriptors(pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass; whether it held.
func waitUntil(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
