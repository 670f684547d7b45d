// What the systemd tests need to play the service manager: a notification socket that records what
// arrives, and listening sockets to hand over.

import Foundation

/// A datagram socket standing in for systemd's notification socket; records each message with the
/// time it arrived.
final class NotifyListener: @unchecked Sendable {
    /// What to put in NOTIFY_SOCKET.
    let address: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [(time: Double, text: String)] = []
    private var closed = false

    /// Binds a socket file in a fresh temporary directory, or with `abstract` an abstract name.
    init(abstract: Bool = false) throws {
        let name = "toolrouter-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket: \(String(cString: strerror(errno)))") }
        if abstract {
            address = "@" + name
            try bindUnix(fd, bytes: [0] + Array(name.utf8))
        } else {
            address = NSTemporaryDirectory() + name + ".sock"
            try bindUnix(fd, bytes: Array(address.utf8) + [0])
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in self.receiveLoop() }
        thread.start()
    }

    deinit { close() }

    /// Stops listening and removes the socket file.
    func close() {
        lock.lock()
        let wasClosed = closed
        closed = true
        lock.unlock()
        guard !wasClosed else { return }
        if address.hasPrefix("/") { unlink(address) }
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            lock.lock()
            let stop = closed
            lock.unlock()
            if stop { Glibc.close(fd); return }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            lock.lock()
            received.append((Self.now(), text))
            lock.unlock()
        }
    }

    /// Every message so far, oldest first.
    var messages: [(time: Double, text: String)] { lock.lock(); defer { lock.unlock() }; return received }

    /// Messages holding the assignment `line` (e.g. "READY=1").
    func messages(with line: String) -> [(time: Double, text: String)] {
        messages.filter { $0.text.split(separator: "\n").contains { $0 == line } }
    }

    /// Waits until `count` messages hold `line`; the last of them, or nil after `timeout` seconds.
    @discardableResult
    func wait(for line: String, count: Int = 1, timeout: Double) -> (time: Double, text: String)? {
        let end = Self.now() + timeout
        while Self.now() < end {
            let found = messages(with: line)
            if found.count >= count { return found[count - 1] }
            usleep(10_000)
        }
        return nil
    }

    /// CLOCK_MONOTONIC in seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A setup step of a test socket failed.
struct TestSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Binds `fd` to the AF_UNIX address whose `sun_path` bytes are `bytes` (NUL-terminated path, or a
/// leading NUL for an abstract name).
func bindUnix(_ fd: Int32, bytes: [UInt8]) throws {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    guard bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else { throw TestSocketError("address too long") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
    let length = socklen_t(2 + bytes.count)
    let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard result == 0 else { throw TestSocketError("bind: \(String(cString: strerror(errno)))") }
}

/// A socket of `type` bound to `path`; listening when `listen` (the way systemd hands sockets over).
func unixSocket(path: String, type: Int32 = Int32(SOCK_STREAM.rawValue), listen shouldListen: Bool = true) throws -> Int32 {
    let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestSocketError("socket: \(String(cString: strerror(errno)))") }
    unlink(path)
    try bindUnix(fd, bytes: Array(path.utf8) + [0])
    if shouldListen { guard listen(fd, 64) == 0 else { throw TestSocketError("listen: \(String(cString: strerror(errno)))") } }
    return fd
}

/// A fresh temporary directory for one test's sockets and files.
func temporaryDirectory(_ tag: String) throws -> String {
    let dir = NSTemporaryDirectory() + "toolrouter-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
