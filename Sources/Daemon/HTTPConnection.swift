// The HTTP socket: NIOHTTP1's codec (no hand-written parser) behind the same `ConnectionGate` as the
// other sockets, then one handler per connection that collects a request, has `OpenAIHTTPService` answer
// it on a task, and writes the answer.
//
// - One request at a time per connection: NIO's pipelining helper holds a pipelined request back until
//   the previous answer is written, so a connection's cost stays one request.
// - The body is capped at `max_message_bytes` (Content-Length checked at the head, bytes counted as they
//   come): a larger body gets 413 and the connection is closed.
// - A client that goes away cancels its request (the worker stops it at its next step).
// - Idleness is the gate's: busy from a request's head until its answer is written.

import Logging
import NIOCore
import NIOHTTP1
import Router

/// The handler of one HTTP connection; every member is touched on the channel's event loop only.
final class HTTPConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: OpenAIHTTPService
    private let maxBodyBytes: Int
    private let requests: RequestTracker
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var discarding = false
    private var task: Task<Void, Never>?
    private var peer: PeerCredentials?

    init(service: OpenAIHTTPService, maxBodyBytes: Int, requests: RequestTracker) {
        self.service = service
        self.maxBodyBytes = maxBodyBytes
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            discarding = false
            context.channel.pipeline.fireUserInboundEventTriggered(ConnectionActivity.busy)
            if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
                refuseTooLarge(context)
            }
        case .body(var buffer):
            guard !discarding else { return }
            if body.count + buffer.readableBytes > maxBodyBytes {
                refuseTooLarge(context)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard !discarding, let requestHead = head else { return }
            head = nil
            start(requestHead, body: body, context)
            body = []
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let identified = event as? PeerIdentified { peer = identified.credentials; return }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        context.fireChannelInactive()
    }

    private func refuseTooLarge(_ context: ChannelHandlerContext) {
        discarding = true
        body = []
        write(service.tooLarge(limit: maxBodyBytes), keepAlive: false, context: context)
    }

    private func start(_ requestHead: HTTPRequestHead, body: [UInt8], _ context: ChannelHandlerContext) {
        let service = self.service, channel = context.channel, requests = self.requests
        let privileged = peer?.isPrivileged == true
        let keepAlive = requestHead.isKeepAlive
        let authorization = requestHead.headers.first(name: "authorization")
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        requests.begin()
        task = Task {
            let answer = await service.respond(method: requestHead.method.rawValue, path: requestHead.uri, authorization: authorization,
                                               body: body, privileged: privileged)
            let cancelled = Task.isCancelled
            channel.eventLoop.execute {
                if !cancelled, channel.isActive, let context = try? channel.pipeline.syncOperations.context(handlerType: HTTPConnection.self) {
                    bound.value.write(answer, keepAlive: keepAlive, context: context)
                }
                requests.end()
            }
        }
    }

    private func write(_ answer: HTTPAnswer, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: answer.contentType)
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        if answer.events == nil { headers.add(name: "content-length", value: "\(answer.body.count)") }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: answer.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let events = answer.events {
            for event in events { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: event)))), promise: nil) }
        } else if !answer.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if keepAlive {
                channel.pipeline.fireUserInboundEventTriggered(ConnectionActivity.idle)
            } else {
                channel.close(promise: nil)
            }
        }
    }
}

extension AgentServer {
    /// Listens at `listen` (a Unix socket path, an inherited socket, or a TCP address) and answers HTTP
    /// with `service`, to the peers `access` admits.
    public static func startHTTP(service: OpenAIHTTPService, listen: ListenAddress, maxBodyBytes: Int, access: AccessPolicy = AccessPolicy(),
                                 logger: Logger = Logger(label: "toolrouter")) async throws -> AgentServer {
        let requests = RequestTracker()
        return try await start(listen: listen, access: access, logger: logger, socketName: "http", requests: requests, halfClose: false,
                               wire: .http) { pipeline in
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            try pipeline.addHandler(HTTPConnection(service: service, maxBodyBytes: maxBodyBytes, requests: requests))
        }
    }
}
