// Creating a listening Unix socket safely, and living with a process that runs out of descriptors.
//
// - The socket file is created by `bind` with mode `0777 & ~umask`; a `chmod` afterwards leaves a window in
//   which a loose umask (0000, 0002) lets anyone connect. So `bind` runs under umask 0077 (owner only) and
//   the configured mode is applied after. The umask is process-wide, but the daemon binds while starting,
//   when no other thread creates files; and 0077 only ever takes permissions away (a directory created
//   meanwhile elsewhere would still be usable by its owner). That is simpler than binding in a private
//   directory and renaming, which also needs room in `sun_path` for the longer temporary path.
// - A socket file already at the path is only removed when nothing listens on it (`connect` is refused):
//   a second instance started on the same path stops with an error instead of stealing the first one's
//   socket.
// - Out of descriptors, `accept` fails with EMFILE while the client stays in the backlog, so the socket
//   stays readable and the event loop spins. The server channel backs off (NIO's `AcceptBackoffHandler`)
//   and, to answer those clients rather than leave them hanging, keeps one spare descriptor: on EMFILE it
//   closes it, accepts each waiting client, writes it one `overloaded` line and closes it, then takes the
//   spare back.

import Foundation
import Logging
import NIOCore

/// Creating and checking listening sockets.
enum ListeningSocket {
    /// Binds a listening Unix stream socket at `path` with permission bits `mode`, replacing a stale socket
    /// file; the descriptor (close-on-exec, listening).
    static func bind(path: String, mode: UInt32, backlog: Int32 = 256) throws(ServerError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path), !bytes.contains(0) else {
            throw .bind(path: path, reason: "the path does not fit a socket address (\(bytes.count) bytes, at most 107)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        try removeStale(at: path, address: address)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .bind(path: path, reason: "socket: \(String(cString: strerror(errno)))") }
        let previous = umask(0o077)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let bindError = errno
        umask(previous)
        guard bound == 0 else {
            close(fd)
            throw .bind(path: path, reason: String(cString: strerror(bindError)))
        }
        guard chmod(path, mode_t(mode)) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(path)
            throw .bind(path: path, reason: "chmod: \(reason)")
        }
        guard listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(path)
            throw .bind(path: path, reason: "listen: \(reason)")
        }
        return fd
    }

    /// Binds a listening TCP socket at `host` (a numeric IPv4 or IPv6 address) and `port` (0: any free
    /// port); the descriptor (close-on-exec, listening, SO_REUSEADDR) and the port bound.
    static func bindTCP(host: String, port: Int, backlog: Int32 = 256) throws(ServerError) -> (fd: Int32, port: Int) {
        let name = "\(host):\(port)"
        guard (0...65535).contains(port) else { throw .bind(path: name, reason: "port out of range") }
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
        } else {
            throw .bind(path: name, reason: "not a numeric IPv4 or IPv6 address")
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .bind(path: name, reason: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if family == AF_INET {
            bound = withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            bound = withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .bind(path: name, reason: reason)
        }
        // The port actually bound (the kernel picks one for port 0); both families keep it at the same offset.
        var actual = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: actual.sin6_port)))
    }

    /// Removes a socket file nothing listens on; refuses a live one and anything that is not a socket.
    /// (Two instances starting at the very same moment can still both find the file stale; a lock file
    /// would close that gap, at the price of a second file to manage.)
    private static func removeStale(at path: String, address: sockaddr_un) throws(ServerError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .pathOccupied(path) }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard probe >= 0 else { throw .bind(path: path, reason: "socket: \(String(cString: strerror(errno)))") }
        var target = address
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let connectError = errno
        close(probe)
        // Non-blocking: a live listener with a full backlog answers EAGAIN.
        if connected == 0 || connectError == EAGAIN || connectError == EINPROGRESS { throw .inUse(path) }
        switch connectError {
        case ECONNREFUSED: unlink(path)   // stale: nothing listens
        case ENOENT: return               // removed meanwhile
        default:
            let reason = String(cString: strerror(connectError))
            throw .bind(path: path, reason: "a socket file is there and whether something listens on it cannot be told (\(reason)); refusing to replace it")
        }
    }
}

/// On EMFILE/ENFILE from `accept`: answers the clients waiting in the backlog `overloaded` and closes
/// them, using a spare descriptor it keeps for that. Sits in the listening channel's pipeline in front
/// of NIO's `AcceptBackoffHandler`, which then delays the next `accept`.
final class AcceptOverflowHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel

    /// The accept backoff after an out-of-descriptors error (and the errors NIO treats alike).
    static func backoff(_ error: IOError) -> TimeAmount? {
        [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) ? .milliseconds(100) : nil
    }

    private let listenFD: Int32
    private let socketName: String
    private let logger: Logger
    private var spare: Int32
    private let refusal: [UInt8]

    init(listenFD: Int32, socketName: String, logger: Logger, wire: SocketWire = .jsonLines) {
        self.listenFD = listenFD
        self.socketName = socketName
        self.logger = logger
        self.spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        self.refusal = wire.refusal(RPCError(.overloaded, "overloaded: the daemon is out of file descriptors; try again later"))
    }

    deinit { if spare >= 0 { close(spare) } }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == EMFILE || error.errnoCode == ENFILE { refuseWaitingClients() }
        context.fireErrorCaught(error)
    }

    private func refuseWaitingClients() {
        if spare >= 0 { close(spare); spare = -1 }
        var refused = 0
        // Bounded, so a steady stream of clients cannot keep the event loop here.
        while refused < 1024 {
            let client = accept(listenFD, nil, nil)   // the listening socket is non-blocking: EAGAIN once the backlog is empty
            guard client >= 0 else { break }
            _ = refusal.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            close(client)
            refused += 1
        }
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        logger.warning("out of file descriptors: waiting connections answered overloaded and closed; accepting again in 100 ms",
                       metadata: ["socket": "\(socketName)", "refused": "\(refused)", "spare": "\(spare >= 0 ? "kept" : "unavailable")"])
    }
}

/// The process's descriptor limit against the connections the config allows.
public enum DescriptorLimit {
    /// Descriptors the daemon uses besides connections: standard streams, event loops, the signal pipe, the
    /// systemd sockets, the spare descriptors — about 20 — with room to spare.
    public static let reserved = 32

    /// Raises the soft RLIMIT_NOFILE to the hard limit (capped by the kernel's `fs.nr_open`); the soft
    /// limit in effect afterwards, and the hard one.
    @discardableResult
    public static func raiseSoftLimit() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (Int.max, Int.max) }
        let nrOpen = (try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8))
            .flatMap { rlim_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1 << 20
        let target = min(limit.rlim_max, nrOpen)
        if target > limit.rlim_cur {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        func clamp(_ value: rlim_t) -> Int { value >= rlim_t(Int.max) ? Int.max : Int(value) }
        return (clamp(limit.rlim_cur), clamp(limit.rlim_max))
    }

    /// Checks that `sockets` sockets of `maxConnections` connections each, plus `reserved`, fit in `soft`
    /// descriptors; the error names both numbers and the largest `max_connections` that fits.
    public static func check(maxConnections: Int, sockets: Int, soft: Int, hard: Int) throws(ConfigError) {
        let needed = sockets * maxConnections + reserved
        guard needed > soft else { return }
        let fits = max(0, (soft - reserved) / sockets)
        throw .invalid(field: "/max_connections",
                       message: "\(maxConnections) connections on each of \(sockets) sockets need about \(needed) file descriptors, "
                           + "but the limit (RLIMIT_NOFILE) is \(soft) (hard limit \(hard)): set max_connections to at most \(fits), "
                           + "or raise the limit (LimitNOFILE= in the unit, ulimit -n)")
    }
}
