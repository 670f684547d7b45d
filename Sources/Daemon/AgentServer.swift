// The agent socket: newline-delimited JSON-RPC over a Unix domain socket, on SwiftNIO.
//
// A server binds its socket itself (see ListeningSocket: restrictive umask, no stealing a live socket) or
// adopts one from the service manager, puts a `ConnectionGate` (peer check, connection cap, idle timeout)
// in front of every connection, and backs off when `accept` runs out of descriptors. What one agent
// connection does with its lines is in AgentConnection.swift.

import Foundation
import Logging
import NIOCore
import NIOPosix

/// Why the agent socket could not be opened.
public enum ServerError: Error, CustomStringConvertible {
    /// Something that is not a socket is in the way at the socket path.
    case pathOccupied(String)
    /// Binding or setting the socket's mode failed.
    case bind(path: String, reason: String)
    /// Another process listens on the socket path (another instance of the daemon, most likely).
    case inUse(String)

    public var description: String {
        switch self {
        case .pathOccupied(let path): return "\(path) exists and is not a socket; refusing to replace it"
        case .bind(let path, let reason): return "cannot listen on \(path): \(reason)"
        case .inUse(let path): return "another process is listening on \(path); stop it first, or give this instance another socket path"
        }
    }
}

/// Where a server listens: a path it binds itself, or a listening socket inherited from the service
/// manager (socket activation), whose file belongs to the service manager.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Bind this path (replacing a stale socket file) and give it these permission bits.
    case path(String, mode: UInt32)
    /// Adopt this listening descriptor as it is.
    case inherited(InheritedSocket)
    /// Bind this TCP address (a numeric IPv4 or IPv6 address; port 0 picks a free port). HTTP only.
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .path(let path, _): return path
        case .inherited(let socket): return socket.description
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}

/// A listening Unix socket (the agent socket, or the handlers' socket).
public final class AgentServer: Sendable {
    /// The socket path (for an inherited socket without one, "fd N").
    public let path: String
    /// Whether the daemon bound `path` itself (and so removes it on close).
    public let ownsPath: Bool
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let requests: RequestTracker?

    private init(path: String, ownsPath: Bool, channel: any Channel, group: MultiThreadedEventLoopGroup, requests: RequestTracker?) {
        self.path = path
        self.ownsPath = ownsPath
        self.channel = channel
        self.group = group
        self.requests = requests
    }

    /// Binds `path` (replacing a stale socket file), sets its permission bits to `mode`, and serves `service`
    /// to the peers `access` admits.
    public static func start(service: AgentService, path: String, mode: UInt32, maxLineBytes: Int,
                             access: AccessPolicy = AccessPolicy(), logger: Logger = Logger(label: "toolrouter")) async throws -> AgentServer {
        try await start(service: service, listen: .path(path, mode: mode), maxLineBytes: maxLineBytes, access: access, logger: logger)
    }

    /// Listens at `listen` (a path to bind, or an inherited socket) and serves `service` to the peers
    /// `access` admits.
    public static func start(service: AgentService, listen: ListenAddress, maxLineBytes: Int,
                             access: AccessPolicy = AccessPolicy(), logger: Logger = Logger(label: "toolrouter")) async throws -> AgentServer {
        try await start(responder: service, listen: listen, maxLineBytes: maxLineBytes, access: access, logger: logger)
    }

    /// Listens at `listen` and answers agent lines with `responder`.
    static func start(responder service: any AgentResponder, listen: ListenAddress, maxLineBytes: Int,
                      access: AccessPolicy = AccessPolicy(), logger: Logger = Logger(label: "toolrouter")) async throws -> AgentServer {
        let requests = RequestTracker()
        return try await start(listen: listen, access: access, logger: logger, socketName: "agent", requests: requests, halfClose: true) {
            AgentConnection(service: service, maxLineBytes: maxLineBytes, requests: requests)
        }
    }

    /// Listens at `listen` and gives every admitted connection the handler `makeHandler` returns, behind a
    /// `ConnectionGate` that checks the peer, the connection count and idleness. With `halfClose`, a peer's
    /// end of input reaches the handler as `ChannelEvent.inputClosed` instead of closing the connection.
    static func start(listen: ListenAddress, access: AccessPolicy, logger: Logger, socketName: String, requests: RequestTracker? = nil,
                      halfClose: Bool = false, makeHandler: @escaping @Sendable () -> any ChannelInboundHandler) async throws -> AgentServer {
        try await start(listen: listen, access: access, logger: logger, socketName: socketName, requests: requests, halfClose: halfClose,
                        wire: .jsonLines) { pipeline in try pipeline.addHandler(makeHandler()) }
    }

    /// Listens at `listen`; every admitted connection gets, behind its `ConnectionGate`, the handlers
    /// `addHandlers` adds. Refusals are written in `wire`'s form.
    static func start(listen: ListenAddress, access: AccessPolicy, logger: Logger, socketName: String, requests: RequestTracker?,
                      halfClose: Bool, wire: SocketWire,
                      addHandlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void) async throws -> AgentServer {
        let listenFD: Int32
        var name = listen.description
        switch listen {
        case .path(let path, let mode): listenFD = try ListeningSocket.bind(path: path, mode: mode)
        case .inherited(let socket): listenFD = socket.fd; name = socket.path ?? "fd \(socket.fd)"
        case .tcp(let host, let port):
            let bound = try ListeningSocket.bindTCP(host: host, port: port)
            listenFD = bound.fd
            name = ListenAddress.tcp(host: host, port: bound.port).description
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let count = ConnectionCount()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptOverflowHandler(listenFD: listenFD, socketName: socketName, logger: logger, wire: wire))
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false,
                                                                                        backoffProvider: AcceptOverflowHandler.backoff))
                }
            }
            // One read at a time per connection: what a connection holds unread stays at one read's worth.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: halfClose)
            // Answers are held back by the daemon only once the kernel buffer is full: past 2 KiB held back,
            // the client is not reading (not writable), even with its answers waiting in few running requests.
            .childChannelOption(.writeBufferWaterMark, value: ChannelOptions.Types.WriteBufferWaterMark(low: 1024, high: 2048))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionGate(policy: access, count: count, logger: logger,
                                                                                  socketName: socketName, wire: wire))
                    try addHandlers(channel.pipeline.syncOperations)
                }
            }
        let channel: any Channel
        do { channel = try await bootstrap.withBoundSocket(listenFD).get() } catch {
            try? await group.shutdownGracefully()
            if case .path(let path, _) = listen { unlink(path) }
            if case .inherited = listen { throw ServerError.bind(path: name, reason: "cannot adopt the inherited socket: \(error)") }
            throw ServerError.bind(path: name, reason: "\(error)")
        }
        let ownsPath: Bool
        if case .path = listen { ownsPath = true } else { ownsPath = false }
        return AgentServer(path: name, ownsPath: ownsPath, channel: channel, group: group, requests: requests)
    }

    /// Stops accepting connections; open connections stay and their requests are still answered. An
    /// inherited socket stays open in the service manager, which keeps new connections for the next start.
    public func stopAccepting() async {
        try? await channel.close()
    }

    /// Requests read from agent connections whose answers are not written yet.
    public var requestsInFlight: Int { requests?.count ?? 0 }

    /// Waits until every request read so far has been answered, or `timeout` seconds; the number still
    /// unanswered.
    public func waitForRequests(timeout: Double) async -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while requestsInFlight > 0 && Date() < deadline { try? await Task.sleep(nanoseconds: 5_000_000) }
        return requestsInFlight
    }

    /// Stops listening and closes every connection; removes the socket file if the daemon bound it.
    public func close() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
        if ownsPath { unlink(path) }
    }
}
