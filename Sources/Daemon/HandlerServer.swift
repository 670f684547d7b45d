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
            HandlerConnection(registry: registry, id: ids.next(), maxLineBytes: maxLineBytes)
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
private final class HandlerConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let registry: HandlerRegistry
    private let id: Int
    private var framer: LineFramer

    init(registry: HandlerRegistry, id: Int, maxLineBytes: Int) {
        self.registry = registry
        self.id = id
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for framed in framer.append(buffer.readableBytesView) {
            switch framed {
            case .tooLong(let count):
                write(context, RPCResponse.error(id: .null, .messageTooLarge(byteCount: count, limit: framer.maxLineBytes)))
            case .line(let line):
                handle(line, context: context)
            }
        }
    }

    private func handle(_ line: [UInt8], context: ChannelHandlerContext) {
        guard let message = try? JSONParser.parse(bytes: line), case .object = message else {
            write(context, RPCResponse.error(id: .null, RPCError(.parseError, "expected one JSON-RPC message per line")))
            return
        }
        // A response to one of our `invoke` requests.
        if message["method"] == nil, let callID = message["id"]?.intValue {
            if let result = message["result"] {
                registry.completed(connection: id, callID: callID, result: .success(result))
            } else {
                let text = message["error"]?["message"]?.stringValue ?? "the handler reported an error"
                registry.completed(connection: id, callID: callID,
                                   result: .failure(RPCError(.handlerFailed, text, data: message["error"]?["data"])))
            }
            return
        }
        let requestID = message["id"] ?? .null
        guard message["method"]?.stringValue == "register" else {
            write(context, RPCResponse.error(id: requestID, RPCError(.methodNotFound, "handlers may only call 'register'")))
            return
        }
        switch registry.register(connection: id, channel: context.channel, params: message["params"]) {
        case .success(let value):
            context.channel.pipeline.fireUserInboundEventTriggered(ConnectionActivity.registered)   // no idle timeout from now on
            write(context, RPCResponse.result(id: requestID, value))
        case .failure(let error): write(context, RPCResponse.error(id: requestID, error))
        }
    }

    private func write(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
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
