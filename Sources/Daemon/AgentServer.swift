// The agent socket: newline-delimited JSON-RPC over a Unix domain socket, on SwiftNIO.
//
// Each connection frames lines with a size cap (an oversized line is answered at once and the rest of it
// discarded), runs every request as its own task (pipelining: responses carry ids and are written as they
// complete), and cancels its in-flight requests when the client disconnects — the worker drops them.

import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Why the agent socket could not be opened.
public enum ServerError: Error, CustomStringConvertible {
    /// Something that is not a socket is in the way at the socket path.
    case pathOccupied(String)
    /// Binding or setting the socket's mode failed.
    case bind(path: String, reason: String)

    public var description: String {
        switch self {
        case .pathOccupied(let path): return "\(path) exists and is not a socket; refusing to replace it"
        case .bind(let path, let reason): return "cannot listen on \(path): \(reason)"
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

    public var description: String {
        switch self {
        case .path(let path, _): return path
        case .inherited(let socket): return socket.description
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
        let requests = RequestTracker()
        return try await start(listen: listen, access: access, logger: logger, socketName: "agent", requests: requests) {
            AgentConnection(service: service, maxLineBytes: maxLineBytes, requests: requests)
        }
    }

    /// Listens at `listen` and gives every admitted connection the handler `makeHandler` returns, behind a
    /// `ConnectionGate` that checks the peer and the connection count.
    static func start(listen: ListenAddress, access: AccessPolicy, logger: Logger, socketName: String, requests: RequestTracker? = nil,
                      makeHandler: @escaping @Sendable () -> any ChannelInboundHandler) async throws -> AgentServer {
        if case .path(let path, _) = listen { try removeStaleSocket(at: path) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let count = ConnectionCount()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionGate(policy: access, count: count, logger: logger, socketName: socketName))
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                }
            }
        let channel: any Channel
        switch listen {
        case .inherited(let socket):
            let name = socket.path ?? "fd \(socket.fd)"
            do { channel = try await bootstrap.withBoundSocket(socket.fd).get() } catch {
                try? await group.shutdownGracefully()
                throw ServerError.bind(path: name, reason: "cannot adopt the inherited socket: \(error)")
            }
            return AgentServer(path: name, ownsPath: false, channel: channel, group: group, requests: requests)
        case .path(let path, let mode):
            do { channel = try await bootstrap.bind(unixDomainSocketPath: path).get() } catch {
                try? await group.shutdownGracefully()
                throw ServerError.bind(path: path, reason: "\(error)")
            }
            guard chmod(path, mode_t(mode)) == 0 else {
                let reason = String(cString: strerror(errno))
                try? await channel.close()
                try? await group.shutdownGracefully()
                throw ServerError.bind(path: path, reason: "chmod: \(reason)")
            }
            return AgentServer(path: path, ownsPath: true, channel: channel, group: group, requests: requests)
        }
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

    private static func removeStaleSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw ServerError.pathOccupied(path) }
        unlink(path)
    }
}

/// In-flight request tasks of one connection, cancelled together when it closes.
private final class InFlight: @unchecked Sendable {
    private let lock = NSLock()
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var next = 0
    private var closed = false

    func add(_ make: (Int) -> Task<Void, Never>) {
        lock.lock(); defer { lock.unlock() }
        let id = next
        next += 1
        let task = make(id)
        if closed { task.cancel() } else { tasks[id] = task }
    }

    func finish(_ id: Int) { lock.lock(); tasks[id] = nil; lock.unlock() }

    /// Requests still running.
    var count: Int { lock.lock(); defer { lock.unlock() }; return tasks.count }

    func cancelAll() {
        lock.lock()
        closed = true
        let all = tasks.values
        tasks = [:]
        lock.unlock()
        for task in all { task.cancel() }
    }
}

/// Requests of all connections of one agent socket that were read and are not answered yet (a stopping
/// daemon waits for them before it closes the connections).
final class RequestTracker: Sendable {
    private let value = Atomic<Int>(0)
    func begin() { value.add(1, ordering: .relaxed) }
    func end() { value.subtract(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// One agent connection.
private final class AgentConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let service: AgentService
    private let maxLineBytes: Int
    private let requests: RequestTracker
    private var framer: LineFramer
    private let inFlight = InFlight()
    /// Who connected (from the ConnectionGate), for the answers that depend on it (see `AgentService.peer`).
    private var peer: PeerCredentials?
    /// Whether the channel is being read (autoRead); only touched on the event loop.
    private var reading = true
    /// Requests one connection may have running at once before it stops being read.
    static let maxInFlight = 32

    init(service: AgentService, maxLineBytes: Int, requests: RequestTracker) {
        self.service = service
        self.maxLineBytes = maxLineBytes
        self.requests = requests
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let channel = context.channel
        for framed in framer.append(buffer.readableBytesView) {
            switch framed {
            case .tooLong(let count):
                channel.writeAndFlush(ByteBuffer(bytes: service.tooLong(byteCount: count, limit: maxLineBytes)), promise: nil)
            case .line(let line):
                let service = self.service, inFlight = self.inFlight, requests = self.requests, peer = self.peer
                requests.begin()
                inFlight.add { id in
                    Task {
                        defer {
                            inFlight.finish(id)
                            requests.end()
                            channel.pipeline.fireUserInboundEventTriggered(RequestFinished())
                        }
                        guard let response = await AgentService.$peer.withValue(peer, operation: { await service.respond(to: line) }),
                              !Task.isCancelled else { return }
                        // Counted until written, so a stopping daemon does not close the connection under it.
                        let written = channel.eventLoop.makePromise(of: Void.self)
                        channel.writeAndFlush(ByteBuffer(bytes: response), promise: written)
                        try? await written.futureResult.get()
                    }
                }
            }
        }
        updateReading(context)
    }

    /// Back-pressure: a connection stops being read while `maxInFlight` of its requests are running or
    /// while its client is not reading its answers (the channel is not writable). Its further requests
    /// wait in the kernel's socket buffer — and then in the client — instead of in the daemon's memory,
    /// and one greedy connection cannot fill the queue the others share.
    private func updateReading(_ context: ChannelHandlerContext) {
        let wanted = inFlight.count < Self.maxInFlight && context.channel.isWritable
        guard wanted != reading else { return }
        reading = wanted
        context.channel.setOption(ChannelOptions.autoRead, value: wanted).whenFailure { _ in }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RequestFinished { updateReading(context) } else if let identified = event as? PeerIdentified {
            peer = identified.credentials
        } else { context.fireUserInboundEventTriggered(event) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        updateReading(context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        inFlight.cancelAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inFlight.cancelAll()
        context.close(promise: nil)
    }
}

/// Fired through a connection's pipeline when one of its requests has finished (from any thread;
/// the pipeline delivers it on the event loop).
private struct RequestFinished: Sendable {}
