// One agent connection: lines in, answers out, with pipelining, order, back-pressure and half-close.
//
// Why it works this way:
// - Order. Lines are started one at a time: the next line's task is created only once the previous one
//   has taken its place in the worker's queue (`RouteWorker.submissionObserver`) or has finished. So
//   pipelined routes reach the queue in the order they were sent, whatever each line costs to parse,
//   while answers are still written as they complete (they carry ids).
// - Back-pressure per line, not per read. At most `maxInFlight` requests run at once, and none is started
//   while the client is not reading its answers (the channel is not writable). Bytes read beyond that
//   stay in the connection unframed (one read's worth at most: the socket is not read again until they
//   are all started), so a 64 KiB read of "x\n" lines is 32,768 requests taken one by one, not 32,768
//   tasks at once, and a client that never reads costs a bounded amount of memory.
// - Half-close. End of input means "no more requests" (a client that sends, then `shutdown(SHUT_WR)`):
//   every line read is answered, then the connection is closed. A real disconnect (the channel goes
//   inactive, a write fails) cancels what is still running.
// - Idleness. It tells the `ConnectionGate` when it has nothing to do, which times idle connections out:
//   nothing pending or running, or a client that leaves its answers unread (it would hold a slot for good).

import Foundation
import NIOCore
import Router
import Synchronization

/// Requests of all connections of one agent socket that were read and are not answered yet, plus
/// connections holding read input not yet started (a stopping daemon waits for both before it closes
/// the connections).
final class RequestTracker: Sendable {
    private let value = Atomic<Int>(0)
    func begin() { value.add(1, ordering: .relaxed) }
    func end() { value.subtract(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// In-flight request tasks of one connection, cancelled together when it closes.
private final class InFlight: Sendable {
    private struct State {
        var tasks: [Int: Task<Void, Never>] = [:]
        var closed = false
    }
    private let state = Mutex(State())

    /// Registers the task `make` creates for request `id` (cancelled at once if the connection is gone).
    func add(_ id: Int, _ make: () -> Task<Void, Never>) {
        state.withLock { state in
            let task = make()
            if state.closed { task.cancel() } else { state.tasks[id] = task }
        }
    }

    func finish(_ id: Int) { state.withLock { _ = $0.tasks.removeValue(forKey: id) } }

    func cancelAll() {
        let all = state.withLock { state in
            state.closed = true
            defer { state.tasks = [:] }
            return Array(state.tasks.values)
        }
        for task in all { task.cancel() }
    }
}

/// What answers an agent connection's lines: the `AgentService` (a test may put an instrumented one).
protocol AgentResponder: Sendable {
    /// The response line for one request line (nil for a notification).
    func respond(to line: [UInt8]) async -> [UInt8]?
    /// The response for a line longer than the size cap.
    func tooLong(byteCount: Int, limit: Int) -> [UInt8]
}

extension AgentService: AgentResponder {}

/// Progress of one started line, fired through the pipeline from its task (delivered on the event loop).
private enum LineProgress: Sendable {
    /// The request has its place in the worker's queue (or was refused): the next line may start.
    case queued(Int)
    /// The answer is written (or there was none to write).
    case finished(Int)
}

/// The handler of one agent connection; every member is touched on the channel's event loop only.
final class AgentConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Requests one connection may have running at once.
    static let maxInFlight = 32

    private let service: any AgentResponder
    private let maxLineBytes: Int
    private let requests: RequestTracker
    private let inFlight = InFlight()
    private var framer: LineFramer
    /// Bytes read and not yet framed.
    private var unframed = ByteBuffer()
    /// Framed lines not yet started (normally at most one).
    private var framed: [FramedLine] = []
    /// Started requests whose answers are not written yet.
    private var running = 0
    /// The line started last, until it is queued or answered; no other line starts meanwhile.
    private var awaitingQueue: Int?
    private var nextID = 0
    /// The client half-closed (or the input ended): no more lines will come.
    private var inputClosed = false
    private var closing = false
    /// Whether the channel is being read (autoRead).
    private var reading = true
    /// Whether this connection is counted in `requests` for input read but not started.
    private var holdsInput = false
    /// What the gate was last told: busy (a line is pending or running) or idle.
    private var busy = false
    /// Who connected (from the `ConnectionGate`), for the answers that depend on it (`AgentService.peer`).
    private var peer: PeerCredentials?

    init(service: any AgentResponder, maxLineBytes: Int, requests: RequestTracker) {
        self.service = service
        self.maxLineBytes = maxLineBytes
        self.requests = requests
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if unframed.readableBytes == 0 { unframed = buffer } else { unframed.writeBuffer(&buffer) }
        process(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let progress as LineProgress:
            switch progress {
            case .queued(let id):
                if awaitingQueue == id { awaitingQueue = nil }
            case .finished(let id):
                running -= 1
                if awaitingQueue == id { awaitingQueue = nil }
            }
            process(context)
        case let identified as PeerIdentified:
            peer = identified.credentials
        case let channelEvent as ChannelEvent where channelEvent == .inputClosed:
            inputClosed = true
            // A last line without its newline is still a request (an empty one is skipped by the framer).
            unframed.writeInteger(UInt8(ascii: "\n"))
            process(context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        process(context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        inFlight.cancelAll()
        if holdsInput { holdsInput = false; requests.end() }
        unframed = ByteBuffer()
        framed = []
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inFlight.cancelAll()
        context.close(promise: nil)
    }

    /// Starts every line that may start now, then decides about reading, idleness and closing.
    private func process(_ context: ChannelHandlerContext) {
        while !closing, awaitingQueue == nil, running < Self.maxInFlight, context.channel.isWritable, let item = nextLine() {
            start(item, context)
        }
        let pending = unframed.readableBytes > 0 || !framed.isEmpty
        if pending != holdsInput {
            holdsInput = pending
            if pending { requests.begin() } else { requests.end() }
        }
        if !pending && unframed.capacity > 0 { unframed = ByteBuffer() }   // release the read buffer
        setReading(!inputClosed && !pending && context.channel.isWritable, context)
        // After end of input the connection closes itself once done: no idle timeout then. A client that
        // does not read its answers (not writable) keeps nothing busy: it is the one that is idle.
        let nowBusy = context.channel.isWritable && (pending || running > 0 || inputClosed)
        if nowBusy != busy {
            busy = nowBusy
            context.channel.pipeline.fireUserInboundEventTriggered(nowBusy ? ConnectionActivity.busy : ConnectionActivity.idle)
        }
        if inputClosed && !pending && running == 0 && !closing {
            closing = true
            // Writes complete in order: once this empty one is done, every answer before it is written.
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// The next framed line, framing at most one line's bytes from `unframed`.
    private func nextLine() -> FramedLine? {
        while framed.isEmpty && unframed.readableBytes > 0 {
            let view = unframed.readableBytesView
            let end = view.firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? view.endIndex
            framed += framer.append(view[view.startIndex..<end])
            unframed.moveReaderIndex(forwardBy: end - view.startIndex)
        }
        return framed.isEmpty ? nil : framed.removeFirst()
    }

    private func start(_ item: FramedLine, _ context: ChannelHandlerContext) {
        switch item {
        case .tooLong(let count):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: service.tooLong(byteCount: count, limit: maxLineBytes))), promise: nil)
        case .line(let line):
            let id = nextID
            nextID += 1
            running += 1
            awaitingQueue = id
            requests.begin()
            let channel = context.channel, service = self.service, inFlight = self.inFlight, requests = self.requests, peer = self.peer
            inFlight.add(id) {
                Task {
                    let queued = SubmissionObserver { channel.pipeline.fireUserInboundEventTriggered(LineProgress.queued(id)) }
                    let response = await Self.respond(service, line, peer: peer, observer: queued)
                    queued.submitted()   // answered without the worker (or after it): the next line may start
                    if let response, !Task.isCancelled {
                        // Counted until written, so a stopping daemon does not close the connection under it.
                        let written = channel.eventLoop.makePromise(of: Void.self)
                        channel.writeAndFlush(ByteBuffer(bytes: response), promise: written)
                        try? await written.futureResult.get()
                    }
                    inFlight.finish(id)
                    requests.end()
                    channel.pipeline.fireUserInboundEventTriggered(LineProgress.finished(id))
                }
            }
        }
    }

    /// `service`'s answer to `line` from `peer`, with `observer` told when the request has its place in the
    /// worker's queue. The task-locals are bound here, in a function of its own: bound inline in the
    /// request's `Task` closure, a closure value crashed Swift 6.3's runtime in `swift_task_localValuePush`.
    private static func respond(_ service: any AgentResponder, _ line: [UInt8], peer: PeerCredentials?,
                                observer: SubmissionObserver) async -> [UInt8]? {
        await AgentService.$peer.withValue(peer) {
            await RouteWorker.$submissionObserver.withValue(observer) { await service.respond(to: line) }
        }
    }

    private func setReading(_ wanted: Bool, _ context: ChannelHandlerContext) {
        guard wanted != reading else { return }
        reading = wanted
        context.channel.setOption(ChannelOptions.autoRead, value: wanted).whenFailure { _ in }
    }
}
