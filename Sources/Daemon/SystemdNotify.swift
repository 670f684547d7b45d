// The sd_notify protocol, written natively (no libsystemd): one datagram of `KEY=VALUE` lines sent to
// the AF_UNIX socket named by `NOTIFY_SOCKET` — a path, or with a leading `@` a Linux abstract-namespace
// name. Without `NOTIFY_SOCKET` (not started by systemd as `Type=notify`) every call does nothing.
//
// Messages the daemon sends: READY=1 (start-up or a reload finished), RELOADING=1 with MONOTONIC_USEC=
// (a reload began), STOPPING=1, STATUS= (one human line for `systemctl status`), WATCHDOG=1.

import Foundation

/// Why a message could not be sent to the service manager, or its environment could not be used.
public enum SystemdNotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `NOTIFY_SOCKET` is neither an absolute path nor an `@abstract` name, or does not fit `sun_path`.
    case invalidAddress(String)
    /// The datagram socket could not be created.
    case socket(reason: String)
    /// `sendto` failed (e.g. the service manager is gone).
    case send(address: String, reason: String)
    /// A watchdog variable (`WATCHDOG_USEC`, `WATCHDOG_PID`) does not hold a positive integer.
    case invalidWatchdog(variable: String, value: String)

    public var description: String {
        switch self {
        case .invalidAddress(let text):
            return "NOTIFY_SOCKET=\(text): expected an absolute path or an @abstract name of at most 107 bytes"
        case .socket(let reason): return "cannot create the notification socket: \(reason)"
        case .send(let address, let reason): return "cannot notify the service manager at \(address): \(reason)"
        case .invalidWatchdog(let variable, let value): return "\(variable)=\(value): expected a positive integer"
        }
    }
}

/// Sends sd_notify messages to the service manager; a no-op when `NOTIFY_SOCKET` is unset.
public struct SystemdNotifier: Sendable, Equatable {
    /// Where notifications go.
    public enum Address: Sendable, Equatable, CustomStringConvertible {
        /// A socket file.
        case path(String)
        /// A Linux abstract-namespace name (written `@name` in `NOTIFY_SOCKET`, sent with a leading NUL).
        case abstract(String)

        public var description: String {
            switch self {
            case .path(let path): return path
            case .abstract(let name): return "@" + name
            }
        }
    }

    /// The socket messages go to; nil means notifications are disabled.
    public let address: Address?

    /// A notifier for `address` (nil: disabled).
    public init(address: Address?) { self.address = address }

    /// A notifier for `NOTIFY_SOCKET` in `environment`; disabled when it is unset or empty.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SystemdNotifyError) {
        guard let text = environment["NOTIFY_SOCKET"], !text.isEmpty else { self.init(address: nil); return }
        self.init(address: try Self.parseAddress(text))
    }

    /// Whether messages are sent at all.
    public var isEnabled: Bool { address != nil }

    /// `NOTIFY_SOCKET`'s value as an address: `/path` or `@name`, at most 107 bytes after the prefix.
    public static func parseAddress(_ text: String) throws(SystemdNotifyError) -> Address {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, !bytes.contains(0), bytes.count <= maxAddressBytes else { throw .invalidAddress(text) }
        if bytes[0] == UInt8(ascii: "@") { return .abstract(String(text.dropFirst())) }
        guard bytes[0] == UInt8(ascii: "/") else { throw .invalidAddress(text) }
        return .path(text)
    }

    /// The longest `sun_path` content: 108 bytes, less the path's terminating NUL (or the abstract
    /// name's leading one).
    static let maxAddressBytes = 107

    // MARK: Messages

    /// READY=1: start-up (or a reload) is complete; with a STATUS= line when `status` is given.
    public func ready(status: String? = nil) throws(SystemdNotifyError) {
        try send(["READY=1"] + Self.statusLine(status))
    }

    /// RELOADING=1 with MONOTONIC_USEC= (the time the reload began, as systemd's reload tracking wants it);
    /// READY=1 must follow when the reload is over, whether it succeeded or not.
    public func reloading(status: String? = nil) throws(SystemdNotifyError) {
        try send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + Self.statusLine(status))
    }

    /// STOPPING=1: the daemon has begun to shut down.
    public func stopping(status: String? = nil) throws(SystemdNotifyError) {
        try send(["STOPPING=1"] + Self.statusLine(status))
    }

    /// STATUS=: one line describing the daemon's state, shown by `systemctl status`.
    public func status(_ text: String) throws(SystemdNotifyError) { try send(Self.statusLine(text)) }

    /// WATCHDOG=1: the daemon is alive (see `Watchdog`).
    public func watchdog() throws(SystemdNotifyError) { try send(["WATCHDOG=1"]) }

    /// A `STATUS=` line for `text`, newlines folded to spaces (one assignment is one line).
    static func statusLine(_ text: String?) -> [String] {
        guard let text else { return [] }
        return ["STATUS=" + String(text.map { $0.isNewline ? " " : $0 })]
    }

    /// CLOCK_MONOTONIC in microseconds — the clock systemd compares MONOTONIC_USEC= against.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    // MARK: Sending

    /// Sends `assignments` (`KEY=VALUE`, one per line) as one datagram; nothing when disabled.
    public func send(_ assignments: [String]) throws(SystemdNotifyError) {
        guard let address, !assignments.isEmpty else { return }
        try Self.send(Array((assignments.joined(separator: "\n") + "\n").utf8), to: address)
    }

    /// One datagram to `address` from a fresh socket (as libsystemd does: nothing stays open between
    /// messages, so a restarted service manager is reached on the next one).
    static func send(_ payload: [UInt8], to address: Address) throws(SystemdNotifyError) {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let nameBytes: [UInt8]
        switch address {
        case .path(let path): nameBytes = Array(path.utf8) + [0]
        case .abstract(let name): nameBytes = [0] + Array(name.utf8)
        }
        guard nameBytes.count <= MemoryLayout.size(ofValue: storage.sun_path) else { throw .invalidAddress(address.description) }
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            for (index, byte) in nameBytes.enumerated() { raw[index] = byte }
        }
        // An abstract name is exactly its bytes long (no terminator); a path may include its NUL.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2) + socklen_t(nameBytes.count)
        while true {
            let sent = payload.withUnsafeBytes { body in
                withUnsafePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), $0, length) }
                }
            }
            if sent >= 0 { return }
            if errno == EINTR { continue }
            throw .send(address: address.description, reason: String(cString: strerror(errno)))
        }
    }
}

/// The watchdog systemd asks for: `WATCHDOG_USEC` (and `WATCHDOG_PID`, which must name this process).
public struct WatchdogSettings: Sendable, Equatable {
    /// The service manager's timeout, in microseconds: a ping must arrive within it.
    public let timeoutMicroseconds: UInt64

    /// Settings with the given timeout.
    public init(timeoutMicroseconds: UInt64) { self.timeoutMicroseconds = max(1, timeoutMicroseconds) }

    /// How often to ping: half the timeout, as sd_watchdog_enabled(3) recommends.
    public var pingInterval: Double { Double(timeoutMicroseconds) / 2_000_000 }

    /// The watchdog in `environment`: nil when `WATCHDOG_USEC` is unset or `WATCHDOG_PID` names another
    /// process; an error when either is not a positive integer.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       pid: pid_t = getpid()) throws(SystemdNotifyError) -> WatchdogSettings? {
        guard let text = environment["WATCHDOG_USEC"], !text.isEmpty else { return nil }
        guard let usec = UInt64(text), usec > 0 else { throw .invalidWatchdog(variable: "WATCHDOG_USEC", value: text) }
        if let pidText = environment["WATCHDOG_PID"], !pidText.isEmpty {
            guard let owner = Int32(pidText), owner > 0 else { throw .invalidWatchdog(variable: "WATCHDOG_PID", value: pidText) }
            guard owner == pid else { return nil }
        }
        return WatchdogSettings(timeoutMicroseconds: usec)
    }
}
