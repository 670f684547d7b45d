// Shared by the handler-socket hardening tests: a uid for peers run with `setpriv`, raw handlers, and
// floods. The daemon itself is a `ServeChild` in a directory other uids can reach.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// A uid (and gids) no account on the test machine uses, for peers that must not be root.
enum Stranger {
    static let uid: UInt32 = 64123
    static let gid: UInt32 = 64124
    static let otherGID: UInt32 = 64125
    static let unrelatedGID: UInt32 = 64126
}

/// The system Python (the pyenv shim lives under /root, which other uids cannot reach).
let systemPython = "/usr/bin/python3"

/// Handler count of `tool` in the support catalogue, from `health`.
func handlerCount(_ client: AgentClient, _ tool: String) throws -> Int {
    try rpc(client, "health", id: 90)["result"]?["handlers"]?["support"]?[tool]?.intValue ?? 0
}

/// A `call` of the support catalogue that the grammar pins to `track_order`.
let trackOrderCall = JSONValue.object([("catalogue", .string("support")), ("input", .string("Where is my order ORD-55821?")),
                                       ("tool_choice", .string("track_order"))])

/// A raw handler on the handler socket, in the test process: register, then read invokes and answer as the test says.
final class RawHandler {
    let client: AgentClient

    init(socket: String, tools: [String] = ["track_order"]) throws {
        client = try AgentClient(path: socket)
        let tools = tools.map { "\"\($0)\"" }.joined(separator: ",")
        let reply = try JSONParser.parse(try client.request(#"{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":[\#(tools)]}}"#,
                                                            timeout: 30))
        guard reply["result"] != nil else { throw ClientError.io("registration refused: \(JSONWriter.compact(reply))") }
    }

    /// The next invoke's id.
    func nextInvokeID(timeout: Double = 60) throws -> Int {
        let invoke = try JSONParser.parse(try client.readLine(timeout: timeout))
        guard invoke["method"]?.stringValue == "invoke", let id = invoke["id"]?.intValue else {
            throw ClientError.io("expected an invoke, got \(JSONWriter.compact(invoke))")
        }
        return id
    }
}

/// A non-blocking raw connection: a peer that writes as fast as the daemon reads and never reads back, or
/// a handler that registers and then reads nothing.
final class Flooder {
    private let fd: Int32
    /// Bytes written so far.
    private(set) var written = 0

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in Array(path.utf8).enumerated() { raw[i] = b } }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw TestSocketError("connect: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Bytes the daemon sent that this side has not read yet (FIONREAD).
    var unreadBytes: Int32 {
        var count: Int32 = 0
        _ = withUnsafeMutablePointer(to: &count) { ioctl(fd, UInt(FIONREAD), $0) }
        return count
    }

    /// Writes one short line (a newline is added).
    func send(line: String) throws {
        let bytes = Array(line.utf8) + [0x0A]
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw TestSocketError("send: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads one line (without its newline), waiting up to `timeout` seconds.
    func readLine(timeout: Double) throws -> String {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, 0)
            if n == 1 {
                if byte == 0x0A { return String(decoding: line, as: UTF8.self) }
                line.append(byte)
            } else if n == 0 {
                throw ClientError.closed
            } else {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&poller, 1, 50)
            }
        }
        throw ClientError.timedOut(seconds: timeout)
    }

    /// Ends the connection.
    func disconnect() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// How a flood ended.
    enum Outcome: Equatable {
        /// Everything was written.
        case completed
        /// The daemon stopped reading: nothing could be written for the stall time.
        case stalled
        /// The daemon closed the connection.
        case closed
    }

    /// Writes `chunk` repeatedly until `total` bytes, a stall of `stall` seconds, or a closed connection;
    /// calls `check` after every `checkEvery` bytes, when writing first blocks, and once at the end.
    func flood(_ chunk: [UInt8], total: Int, stall: Double = 3, checkEvery: Int = 1 << 20, check: () throws -> Void) throws -> Outcome {
        var nextCheck = checkEvery
        var offset = 0
        var blockedSince: Date?
        defer { try? check() }
        while written < total {
            let n = chunk[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, total - written), Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                written += n
                offset = (offset + n) % chunk.count
                blockedSince = nil
                if written >= nextCheck { try check(); nextCheck += checkEvery }
                continue
            }
            if n < 0 && (errno == EPIPE || errno == ECONNRESET) { return .closed }
            guard n < 0 && (errno == EAGAIN || errno == EINTR) else { throw TestSocketError("send: \(String(cString: strerror(errno)))") }
            let since = blockedSince ?? Date()
            if blockedSince == nil { try check() }   // the daemon stopped reading: it must still serve others
            blockedSince = since
            if Date().timeIntervalSince(since) > stall { return .stalled }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&poller, 1, 100)
        }
        return .completed
    }
}
