// The handlers' socket: handler processes connect, register their tools, and answer `invoke` requests.

import Foundation
import JSON
import Logging
import NIOCore
import Synchronization

extension AgentServer {
    /// Listens on the handlers' socket, registering connections with `registry`.
    public static func startHandlers(registry: HandlerRegistry, path: String, mode: UInt32, maxLineBytes: Int,
                                     access: AccessPolicy = AccessPolicy(), logger: Logger = Logger(label: "toolrouter")) async throws -> AgentServer {
        try await startHandlers(registry: registry, listen: .path(path, mode: mode), maxLineBytes: maxLineBytes, access: access, logger: logger)
    }

    /// Listens for handlers at `listen` (a path to bind, or an inherited socket).
    public static func startHandlers(registry: HandlerRegistry, listen: ListenAddress, maxLineBytes: Int,
                                     access: AccessPolicy = AccessPolicy(), logger: Logger = Logger(label: "toolrouter")) async throws -> AgentServer {
        let ids = ConnectionIDs()
        return try await start(listen: listen, access: access, logger: logger, socketName: "handlers") {
            HandlerConnection(registry: registry, id: ids.next(), maxLineBytes: maxLineBytes, logger: logger)
        }
    }
}

/// Hands out connection ids.
private final class ConnectionIDs: Sendable {
    private let counter = Atomic<Int>(0)
    func next() -> Int { counter.add(1, ordering: .relaxed).newValue }
}

/// One handler connection: `register` requests in, `invoke` responses in; `invoke` requests go out
/// through the registry.
///
/// Back-pressure: a line that needs an answer (a request, or an error for one) is handled only while the
/// channel is writable; otherwise it waits, and the connection is not read until the handler reads its
/// answers. Responses to invokes need no answer and never wait, so a handler busy writing results is always
/// read. A line that is not a JSON-RPC message (too long, not JSON or not UTF-8, nested too deep, not an
/// object) breaks the protocol: it cannot be matched to a call, so every call outstanding on the connection
/// fails at once with `handlerProtocolError`, the handler gets one error line, and the connection is closed.
private final class HandlerConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let registry: HandlerRegistry
    private let id: Int
    private let logger: Logger
    private var framer: LineFramer
    /// Who connected (from the ConnectionGate's `PeerIdentified`).
    private var peer: PeerCredentials?
    /// Lines read but not handled yet, waiting for the channel to become writable.
    private var waiting = CircularBuffer<FramedLine>()
    /// Whether the channel is being read (autoRead).
    private var reading = true
    /// Set once the connection broke the protocol: nothing more is read or handled.
    private var closing = false

    init(registry: HandlerRegistry, id: Int, maxLineBytes: Int, logger: Logger) {
        self.registry = registry
        self.id = id
        self.logger = logger
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        for framed in framer.append(buffer.readableBytesView) { waiting.append(framed) }
        drain(context)
    }

    /// Handles waiting lines in order while they can be answered; then reads on only if none is left.
    private func drain(_ context: ChannelHandlerContext) {
        while !closing, let framed = waiting.first {
            switch framed {
            case .tooLong(let count):
                violation(context, reason: "a line of more than \(framer.maxLineBytes) bytes (\(count) read)",
                          reply: .messageTooLarge(byteCount: count, limit: framer.maxLineBytes))
            case .line(let line):
                let message: JSONValue
                do { message = try JSONParser.parse(bytes: line, limits: .protocolLine(maxBytes: framer.maxLineBytes)) } catch {
                    violation(context, reason: "a line that is not JSON-RPC: \(error)", reply: RPCError(.parseError, "expected one JSON-RPC message per line: \(error)"))
                    break
                }
                guard case .object = message else {
                    violation(context, reason: "a JSON line that is not an object", reply: RPCError(.invalidRequest, "expected one JSON-RPC object per line"))
                    break
                }
                if message["method"] == nil, let callID = message["id"]?.intValue {
                    complete(callID: callID, message)
                } else {
                    guard context.channel.isWritable else { updateReading(context); return }
                    request(message, context: context)
                }
            }
            _ = waiting.popFirst()
        }
        updateReading(context)
    }

    private func updateReading(_ context: ChannelHandlerContext) {
        let wanted = !closing && waiting.isEmpty && context.channel.isWritable
        guard wanted != reading else { return }
        reading = wanted
        context.channel.setOption(ChannelOptions.autoRead, value: wanted).whenFailure { _ in }
    }

    /// A response to one of our `invoke` requests.
    private func complete(callID: Int, _ message: JSONValue) {
        if let result = message["result"] {
            registry.completed(connection: id, callID: callID, result: .success(result))
        } else {
            let text = message["error"]?["message"]?.stringValue ?? "the handler reported an error"
            registry.completed(connection: id, callID: callID, result: .failure(RPCError(.handlerFailed, text, data: message["error"]?["data"])))
        }
    }

    /// A request from the handler: only `register` is one.
    private func request(_ message: JSONValue, context: ChannelHandlerContext) {
        let requestID = message["id"] ?? .null
        guard message["method"]?.stringValue == "register" else {
            write(context, RPCResponse.error(id: requestID, RPCError(.methodNotFound, "handlers may only call 'register'")))
            return
        }
        switch registry.register(connection: id, channel: context.channel, uid: peer?.uid, params: message["params"]) {
        case .success(let value):
            context.channel.pipeline.fireUserInboundEventTriggered(ConnectionActivity.registered)   // no idle timeout from now on
            write(context, RPCResponse.result(id: requestID, value))
        case .failure(let error):
            if error.code == .toolOwned {
                let catalogue = error.data?["catalogue"]?.stringValue ?? "", tool = error.data?["tool"]?.stringValue ?? ""
                logger.warning("handler registration refused: the tool belongs to another uid",
                               metadata: metadata.merging(["catalogue": "\(catalogue)", "tool": "\(tool)",
                                                           "owner_uid": "\(registry.owner(catalogue: catalogue, tool: tool).map(String.init) ?? "-")"]) { $1 })
            }
            write(context, RPCResponse.error(id: requestID, error))
        }
    }

    /// The connection broke the protocol: fail its calls, log, answer once and close.
    private func violation(_ context: ChannelHandlerContext, reason: String, reply: RPCError) {
        closing = true
        waiting.removeAll()
        let failed = registry.disconnected(connection: id, failing: RPCError(.handlerProtocolError,
                                                                             "the handler broke the protocol (\(reason)); its connection was closed"))
        logger.warning("handler protocol error; closing the connection",
                       metadata: metadata.merging(["reason": "\(reason)", "failed_calls": "\(failed)"]) { $1 })
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: RPCResponse.error(id: .null, reply)))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["socket": "handlers", "connection": "\(id)"]
        if let peer { metadata["pid"] = "\(peer.pid)"; metadata["uid"] = "\(peer.uid)" }
        return metadata
    }

    private func write(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identified = event as? PeerIdentified { peer = identified.credentials } else { context.fireUserInboundEventTriggered(event) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        drain(context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        registry.disconnected(connection: id)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        registry.disconnected(connection: id)
        context.close(promise: nil)
    }
}
