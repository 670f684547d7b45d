// A small blocking client for the agent socket (the `toolrouter route|call` commands and tests).

import Foundation

/// Why talking to the daemon failed.
public enum ClientError: Error, CustomStringConvertible {
    /// The socket could not be opened or connected.
    case connect(path: String, reason: String)
    /// Reading or writing failed.
    case io(String)
    /// The daemon closed the connection before answering.
    case closed
    /// No complete line arrived in time.
    case timedOut(seconds: Double)

    public var description: String {
        switch self {
        case .connect(let path, let reason): return "cannot connect to \(path): \(reason)"
        case .io(let reason): return "socket error: \(reason)"
        case .closed: return "the daemon closed the connection"
        case .timedOut(let s): return "no answer within \(s) s"
        }
    }
}

/// One connection to the agent socket: write request lines, read response lines.
public final class AgentClient {
    private let fd: Int32
    private var reader = LineReader()

    /// Connects to the Unix socket at `path`.
    public init(path: String) throws(ClientError) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .connect(path: path, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw .connect(path: path, reason: "path longer than a socket address allows")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .connect(path: path, reason: reason)
        }
    }

    deinit { close(fd) }

    /// Ends the connection now (the descriptor itself is released when the client is).
    public func disconnect() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Writes `bytes` as they are (add the newline yourself, or use `send(line:)`).
    public func write(_ bytes: [UInt8]) throws(ClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Writes one request line (a newline is added).
    public func send(line: String) throws(ClientError) { try write(Array(line.utf8) + [0x0A]) }

    /// Reads the next response line (without its newline), waiting up to `timeout` seconds.
    public func readLine(timeout: Double = 60) throws(ClientError) -> String {
        guard let line = try reader.next(from: fd, timeout: timeout) else { throw .closed }
        return line
    }

    /// Reads exactly `count` bytes (after any line already read), waiting up to `timeout` seconds.
    public func read(count: Int, timeout: Double = 60) throws(ClientError) -> [UInt8] {
        try reader.take(count, from: fd, timeout: timeout)
    }

    /// Sends one request and returns its response line.
    public func request(_ line: String, timeout: Double = 60) throws(ClientError) -> String {
        try send(line: line)
        return try readLine(timeout: timeout)
    }
}

/// Newline-delimited lines read from a blocking socket descriptor, with a timeout per line; bytes past the
/// line wait in `buffer` for the next call.
struct LineReader {
    private var buffer: [UInt8] = []

    /// The next `count` bytes; throws `.closed` at end of stream and `.timedOut` after `timeout` seconds.
    mutating func take(_ count: Int, from fd: Int32, timeout: Double) throws(ClientError) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while buffer.count < count {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw .timedOut(seconds: timeout) }
            guard try fill(from: fd, waiting: remaining, resetIsEnd: false) else { throw .closed }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// Reads what is there within `waiting` seconds into `buffer`; false at end of stream.
    private mutating func fill(from fd: Int32, waiting: Double, resetIsEnd: Bool) throws(ClientError) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, Int32(max(1, min(waiting, 3600) * 1000)))
        if ready < 0 { if errno == EINTR { return true }; throw .io(String(cString: strerror(errno))) }
        if ready == 0 { return true }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { return true }
            if errno == ECONNRESET && resetIsEnd { return false }
            throw .io(String(cString: strerror(errno)))
        }
        if n == 0 { return false }
        buffer += chunk[..<n]
        return true
    }

    /// The next line (without its newline), or nil at end of stream (and, when `resetIsEnd`, when the peer
    /// reset the connection); throws `.timedOut` after `timeout` seconds.
    mutating func next(from fd: Int32, timeout: Double, resetIsEnd: Bool = false) throws(ClientError) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return String(decoding: line, as: UTF8.self)
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw .timedOut(seconds: timeout) }
            guard try fill(from: fd, waiting: remaining, resetIsEnd: resetIsEnd) else { return nil }
        }
    }
}
