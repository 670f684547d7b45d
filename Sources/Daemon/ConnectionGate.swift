// The first handler of every connection on either socket: it reads who connected (SO_PEERCRED, and
// SO_PEERGROUPS for the supplementary groups), logs it, and lets the connection through only if the peer
// is allowed and the socket has room. A refused peer gets one JSON-RPC error line saying why, then the
// connection is closed. An admitted peer's credentials travel down the pipeline as a `PeerIdentified`
// event, so the handlers behind the gate (handler ownership, privileged `health`) know who they serve.
//
// It also expires idle connections, which would otherwise hold a `max_connections` slot for good: an
// agent connection that has sent no complete line for `idleTimeoutMs` while nothing of it was pending
// (or whose client left its answers unread that long), and a handler connection that has not registered
// within `idleTimeoutMs` of connecting. The handler after the gate says how the connection is doing with
// `ConnectionActivity` events; the expired peer gets one `idleTimeout` (-32011) error line, then the
// connection is closed.

import Foundation
import JSON
import Logging
import NIOCore
import Synchronization

/// The process at the other end of a Unix socket, as the kernel reports it (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    /// Its process id (at connect time).
    public var pid: Int32
    /// Its effective user id.
    public var uid: UInt32
    /// Its effective group id.
    public var gid: UInt32
    /// Its supplementary groups (SO_PEERGROUPS at connect time; empty when the kernel would not say).
    public var groups: [UInt32]

    /// Credentials as given.
    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// Whether this peer may see privileged detail (handler owners): root, or the daemon's own user.
    public var isPrivileged: Bool { uid == 0 || uid == geteuid() }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}

/// Who may connect to a socket, and how many at once.
public struct AccessPolicy: Sendable, Equatable {
    /// Peer uids accepted; nil (and `allowedGIDs` nil) accepts anyone who can open the socket.
    public var allowedUIDs: [UInt32]?
    /// Peer gids accepted.
    public var allowedGIDs: [UInt32]?
    /// Connections open at once at most.
    public var maxConnections: Int
    /// How long a connection may stay idle (see `ConnectionGate`), in milliseconds; nil: for ever.
    public var idleTimeoutMs: Int?

    /// A policy; by default anyone the socket's file mode lets in, up to 256 connections, idle for 30 s at most.
    public init(allowedUIDs: [UInt32]? = nil, allowedGIDs: [UInt32]? = nil, maxConnections: Int = 256, idleTimeoutMs: Int? = 30_000) {
        self.allowedUIDs = allowedUIDs
        self.allowedGIDs = allowedGIDs
        self.maxConnections = max(1, maxConnections)
        self.idleTimeoutMs = idleTimeoutMs.map { max(1, $0) }
    }

    /// With no lists, everyone; otherwise a peer whose uid is in `allowedUIDs` or whose primary or any
    /// supplementary gid is in `allowedGIDs`. Unknown credentials are refused whenever a list is set.
    public func allows(_ peer: PeerCredentials?) -> Bool {
        if allowedUIDs == nil && allowedGIDs == nil { return true }
        guard let peer else { return false }
        if allowedUIDs?.contains(peer.uid) == true { return true }
        guard let gids = allowedGIDs else { return false }
        return gids.contains(peer.gid) || peer.groups.contains(where: gids.contains)
    }
}

/// Open connections of one socket.
final class ConnectionCount: Sendable {
    private let value = Atomic<Int>(0)
    /// Counts a new connection; false (and not counted) when `limit` are already open.
    func enter(limit: Int) -> Bool {
        while true {
            let current = value.load(ordering: .relaxed)
            guard current < limit else { return false }
            if value.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged { return true }
        }
    }
    func leave() { value.subtract(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// How a connection is doing, for its gate's idle timeout. Fire it through the whole pipeline
/// (`channel.pipeline.fireUserInboundEventTriggered`) so that the gate, first in line, sees it.
public enum ConnectionActivity: Sendable, Equatable {
    /// Something is pending or running: no idle timeout.
    case busy
    /// Nothing pending: the idle timeout runs from now.
    case idle
    /// The peer identified itself (a handler registered): no idle timeout from now on.
    case registered
}

/// How a socket's protocol says "refused" or "closing" to a client it has not read a request from: a
/// JSON-RPC error line (agent and handler sockets), or a complete HTTP response with OpenAI's error
/// object and `connection: close` (the HTTP socket).
public enum SocketWire: Sendable {
    case jsonLines
    case http

    /// The bytes that tell the client `error`.
    func refusal(_ error: RPCError) -> [UInt8] {
        switch self {
        case .jsonLines:
            return RPCResponse.error(id: .null, error)
        case .http:
            let status: (code: Int, reason: String)
            switch error.code {
            case .forbidden: status = (403, "Forbidden")
            case .idleTimeout: status = (408, "Request Timeout")
            default: status = (503, "Service Unavailable")
            }
            let body = Array(JSONWriter.compact(.object([("error", .object([
                ("message", .string(error.message)), ("type", .string(status.code >= 500 ? "server_error" : "invalid_request_error")),
                ("param", .null), ("code", .string(AgentService.outcome(error))),
            ]))])).utf8)
            let head = "HTTP/1.1 \(status.code) \(status.reason)\r\ncontent-type: application/json\r\ncontent-length: \(body.count)\r\nconnection: close\r\n\r\n"
            return Array(head.utf8) + body
        }
    }
}

/// Reads SO_PEERCRED when a connection opens; admits, or answers with an error and closes. Closes
/// admitted connections that stay idle too long.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let policy: AccessPolicy
    private let count: ConnectionCount
    private let logger: Logger
    private let socketName: String
    private let wire: SocketWire
    private var admitted = false
    private var counted = false
    private var registered = false
    private var idleTimer: Scheduled<Void>?

    init(policy: AccessPolicy, count: ConnectionCount, logger: Logger, socketName: String, wire: SocketWire = .jsonLines) {
        self.policy = policy
        self.count = count
        self.logger = logger
        self.socketName = socketName
        self.wire = wire
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = Self.credentials(of: context.channel)
        var metadata: Logger.Metadata = ["socket": "\(socketName)"]
        if let peer {
            metadata["pid"] = "\(peer.pid)"; metadata["uid"] = "\(peer.uid)"; metadata["gid"] = "\(peer.gid)"
            if !peer.groups.isEmpty { metadata["groups"] = "\(peer.groups.map(String.init).joined(separator: ","))" }
        }
        guard policy.allows(peer) else {
            logger.warning("connection refused: peer not in the allowed uids/gids", metadata: metadata)
            refuse(context, RPCError(.forbidden, "forbidden: \(peer.map { "\($0)" } ?? "unknown peer") is not allowed on this socket"))
            return
        }
        guard count.enter(limit: policy.maxConnections) else {
            logger.warning("connection refused: too many connections", metadata: metadata.merging(["limit": "\(policy.maxConnections)"]) { $1 })
            refuse(context, RPCError(.overloaded, "overloaded: \(policy.maxConnections) connections are open on this socket; try again later"))
            return
        }
        counted = true
        admitted = true
        logger.info("connection opened", metadata: metadata)
        context.fireUserInboundEventTriggered(PeerIdentified(credentials: peer))
        armIdleTimer(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if admitted { context.fireChannelRead(data) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let activity = event as? ConnectionActivity else {
            if admitted { context.fireUserInboundEventTriggered(event) }
            return
        }
        switch activity {
        case .busy: cancelIdleTimer()
        case .idle: armIdleTimer(context)
        case .registered: registered = true; cancelIdleTimer()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelIdleTimer()
        if counted { count.leave(); counted = false }
        if admitted { context.fireChannelInactive() }
    }

    private func armIdleTimer(_ context: ChannelHandlerContext) {
        cancelIdleTimer()
        guard admitted, !registered, let timeout = policy.idleTimeoutMs else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(timeout))) { [self] in
            idleTimer = nil
            expire(context, after: timeout)
        }
    }

    private func cancelIdleTimer() {
        idleTimer?.cancel()
        idleTimer = nil
    }

    private func expire(_ context: ChannelHandlerContext, after timeout: Int) {
        let what: String
        switch (socketName, wire) {
        case ("handlers", _): what = "no register"
        case (_, .http): what = "no complete request (or a response left unread)"
        default: what = "no complete request line (or answers left unread)"
        }
        logger.notice("connection closed: idle", metadata: ["socket": "\(socketName)", "idle_timeout_ms": "\(timeout)"])
        // Closed at once, not after the write completes: a client that reads nothing would keep it open.
        let bytes = wire.refusal(RPCError(.idleTimeout, "idle timeout: \(what) within \(timeout) ms; closing the connection"))
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
        context.close(promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext, _ error: RPCError) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: wire.refusal(error)))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The peer's credentials, or nil if the kernel would not say.
    static func credentials(of channel: any Channel) -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } — three 32-bit fields, laid out in order.
        let future: EventLoopFuture<RawCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                                     name: SocketOptionName(SO_PEERCRED))
        // On the channel's event loop the option is read at once, so the future is already complete.
        let box = CredentialsBox()
        future.whenSuccess { raw in box.value = PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid) }
        guard var peer = box.value else { return nil }
        peer.groups = PeerGroups.read(provider) ?? PeerGroups.fromProc(pid: peer.pid) ?? []
        return peer
    }
}

/// Sent down an admitted connection's pipeline before `channelActive`: who is at the other end.
struct PeerIdentified: Sendable {
    /// The peer, or nil when the kernel would not say.
    let credentials: PeerCredentials?
}

/// Carries the credentials out of the (synchronously completed) future; only touched on the event loop.
private final class CredentialsBox: @unchecked Sendable {
    var value: PeerCredentials?
}

/// The kernel's `struct ucred`.
private struct RawCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
