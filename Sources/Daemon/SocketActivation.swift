// Socket activation: listening sockets handed over by systemd (or `systemd-socket-activate`) instead of
// sockets the daemon binds itself.
//
// The protocol (sd_listen_fds(3)): `LISTEN_PID` is the pid the sockets are meant for, `LISTEN_FDS` how
// many there are — descriptors 3, 4, … in order — and `LISTEN_FDNAMES` their colon-separated names (each
// .socket unit's `FileDescriptorName=`). ToolRouter takes the names `agent` and `handlers`; without names
// the first descriptor is the agent socket and the second the handlers' socket. Each must be a listening
// AF_UNIX stream socket. They get FD_CLOEXEC, and the variables are removed from the environment so that
// no child process takes the sockets for its own.

import Foundation

/// Why the inherited sockets cannot be used.
public enum SocketActivationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A LISTEN_* variable does not hold what the protocol says.
    case invalidVariable(name: String, value: String)
    /// More descriptors than the two sockets the daemon has.
    case tooManySockets(Int)
    /// `LISTEN_FDNAMES` does not name every descriptor.
    case namesMismatch(count: Int, names: String)
    /// A descriptor's name is neither `agent` nor `handlers`.
    case unknownName(fd: Int32, name: String)
    /// Two descriptors carry the same name.
    case duplicateName(String)
    /// The descriptor is not a listening AF_UNIX stream socket.
    case unusableSocket(fd: Int32, name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidVariable(let name, let value): return "\(name)=\(value): not a valid value (see sd_listen_fds(3))"
        case .tooManySockets(let count):
            return "LISTEN_FDS=\(count): expected at most 3 sockets (FileDescriptorName=agent, FileDescriptorName=handlers and FileDescriptorName=http)"
        case .namesMismatch(let count, let names): return "LISTEN_FDNAMES=\(names) does not name each of the \(count) sockets"
        case .unknownName(let fd, let name):
            return "socket \(fd) is named \"\(name)\"; expected \"agent\", \"handlers\" or \"http\" (FileDescriptorName= in the .socket unit)"
        case .duplicateName(let name): return "two sockets are named \"\(name)\""
        case .unusableSocket(let fd, let name, let reason): return "inherited socket \(fd) (\(name)): \(reason)"
        }
    }
}

/// One listening socket inherited from the service manager.
public struct InheritedSocket: Sendable, Equatable, CustomStringConvertible {
    /// The descriptor (3 or 4).
    public let fd: Int32
    /// Its name: `agent` or `handlers`.
    public let name: String
    /// The path it is bound to, when it has one (for logs; the daemon never unlinks it).
    public let path: String?

    /// An inherited socket as given.
    public init(fd: Int32, name: String, path: String?) {
        self.fd = fd
        self.name = name
        self.path = path
    }

    public var description: String { path.map { "\($0) (fd \(fd), from the service manager)" } ?? "fd \(fd) (from the service manager)" }
}

/// The sockets systemd passed: the agent socket, the handlers' socket, either or both.
public struct SocketActivation: Sendable, Equatable {
    /// The agents' socket, if inherited.
    public var agent: InheritedSocket?
    /// The handlers' socket, if inherited.
    public var handlers: InheritedSocket?
    /// The HTTP socket, if inherited.
    public var http: InheritedSocket? = nil

    /// The first passed descriptor (SD_LISTEN_FDS_START).
    public static let firstDescriptor: Int32 = 3
    /// The names the daemon takes, in the order used when `LISTEN_FDNAMES` is absent.
    public static let socketNames = ["agent", "handlers", "http"]
    /// The variables of the protocol (removed from the environment once read).
    public static let variables = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]

    /// Sockets as given.
    public init(agent: InheritedSocket? = nil, handlers: InheritedSocket? = nil) {
        self.agent = agent
        self.handlers = handlers
    }

    /// Takes the sockets passed to this process: reads the LISTEN_* variables, checks every descriptor,
    /// sets FD_CLOEXEC on it, and (with `unsetEnvironment`) removes the variables either way. Nil when no
    /// sockets were passed to this process (variables absent, or `LISTEN_PID` names another process).
    public static func take(environment: [String: String] = ProcessInfo.processInfo.environment, pid: pid_t = getpid(),
                            unsetEnvironment: Bool = true) throws(SocketActivationError) -> SocketActivation? {
        defer { if unsetEnvironment { for name in variables { unsetenv(name) } } }
        guard let assigned = try assignments(environment: environment, pid: pid) else { return nil }
        var result = SocketActivation()
        for (fd, name) in assigned {
            try checkListeningUnixStream(fd, name: name)
            let flags = fcntl(fd, F_GETFD)
            guard flags >= 0, fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0 else {
                throw .unusableSocket(fd: fd, name: name, reason: "cannot set FD_CLOEXEC: \(String(cString: strerror(errno)))")
            }
            let socket = InheritedSocket(fd: fd, name: name, path: boundPath(of: fd))
            switch name {
            case "agent": result.agent = socket
            case "handlers": result.handlers = socket
            default: result.http = socket
            }
        }
        return result
    }

    /// Which descriptor carries which name, from the variables alone (nothing is checked or changed).
    /// Nil when the sockets are not for `pid` or none were passed.
    public static func assignments(environment: [String: String], pid: pid_t) throws(SocketActivationError) -> [(fd: Int32, name: String)]? {
        guard let pidText = environment["LISTEN_PID"], !pidText.isEmpty else { return nil }
        guard let owner = Int32(pidText), owner > 0 else { throw .invalidVariable(name: "LISTEN_PID", value: pidText) }
        guard owner == pid else { return nil }
        let countText = environment["LISTEN_FDS"] ?? ""
        guard let count = Int(countText), count >= 0 else { throw .invalidVariable(name: "LISTEN_FDS", value: countText) }
        guard count > 0 else { return nil }
        guard count <= socketNames.count else { throw .tooManySockets(count) }
        let names: [String]
        if let text = environment["LISTEN_FDNAMES"], !text.isEmpty {
            names = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard names.count == count else { throw .namesMismatch(count: count, names: text) }
        } else {
            names = Array(socketNames.prefix(count))
        }
        var seen: Set<String> = []
        var result: [(fd: Int32, name: String)] = []
        for (index, name) in names.enumerated() {
            let fd = firstDescriptor + Int32(index)
            guard socketNames.contains(name) else { throw .unknownName(fd: fd, name: name) }
            guard seen.insert(name).inserted else { throw .duplicateName(name) }
            result.append((fd, name))
        }
        return result
    }

    /// Throws unless `fd` is a socket of family AF_UNIX and type SOCK_STREAM that is listening.
    public static func checkListeningUnixStream(_ fd: Int32, name: String) throws(SocketActivationError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .unusableSocket(fd: fd, name: name, reason: "not an open descriptor (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .unusableSocket(fd: fd, name: name, reason: "not a socket") }
        guard let domain = intOption(fd, SO_DOMAIN), domain == AF_UNIX else {
            throw .unusableSocket(fd: fd, name: name, reason: "not an AF_UNIX socket (ListenStream= must be a path)")
        }
        guard let type = intOption(fd, SO_TYPE), type == Int32(SOCK_STREAM.rawValue) else {
            throw .unusableSocket(fd: fd, name: name, reason: "not a stream socket (use ListenStream=)")
        }
        guard intOption(fd, SO_ACCEPTCONN) == 1 else {
            throw .unusableSocket(fd: fd, name: name, reason: "not listening (Accept=no sockets are passed listening)")
        }
    }

    /// An integer SOL_SOCKET option of `fd`, or nil if it cannot be read.
    static func intOption(_ fd: Int32, _ option: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 else { return nil }
        return value
    }

    /// The filesystem path `fd` is bound to; `@name` for an abstract address; nil when unnamed.
    public static func boundPath(of fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2
        guard ok, Int(length) > offset, address.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let bytes = withUnsafeBytes(of: &address.sun_path) { Array($0.prefix(Int(length) - offset)) }
        guard let first = bytes.first else { return nil }
        if first == 0 { return "@" + String(decoding: bytes.dropFirst(), as: UTF8.self) }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
