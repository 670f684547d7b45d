// Stop within `stop_timeout_ms` on the real binary: slow requests queued, one decoding, and a call
// waiting on a handler that never answers; SIGTERM ends the process within the stop timeout plus a
// small margin, and every request read is answered — those cut short with `shutting_down`.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

@Suite("Stop deadline (real binary)", .serialized)
struct StopDeadlineTests {
    @Test("SIGTERM with stop_timeout_ms 1500: exit in time, every request answered, the unfinished ones shutting_down")
    func stopWithinDeadline() throws {
        let serve = try ServeChild(["--stop-timeout-ms", "1500", "--handler-timeout-ms", "600000",
                                        "--default-deadline-ms", "3600000"], name: "stop")
        defer { serve.child.stop(signal: SIGKILL) }
        // A handler that registers every support tool and never answers an invoke.
        let handler = try serve.connect(serve.handlerSocket)
        let tools: [JSONValue] = ["track_order", "request_refund", "update_address", "escalate"].map(JSONValue.string)
        let registered = try rpc(handler, "register", .object([("catalogue", .string("support")), ("tools", .array(tools))]))
        #expect(registered["error"] == nil, "\(registered)")

        let caller = try serve.connect()
        try caller.send(line: rpcLine("call", .object([("input", .string("Where is my order ORD-55821?")),
                                                                    ("tool_choice", .string("track_order"))]), id: 1))
        // The call reaches the handler (it is now waiting on it).
        let invoke = try JSONParser.parse(try handler.readLine(timeout: 120))
        #expect(invoke["method"]?.stringValue == "invoke")

        // Slow requests: long inputs, long deadlines, each taking the worker a while.
        let slow = try serve.connect()
        let long = String(repeating: "Please look at the order history of this customer and tell me what happened. ", count: 60)
        let count = 6
        for id in 0..<count {
            try slow.send(line: rpcLine("route", .object([("input", .string("\(id) \(long)")), ("deadline_ms", .number(JSONNumber(3_600_000)))]), id: 100 + id))
        }
        // All of them read by the daemon: one running and the rest queued.
        let monitor = try serve.connect()
        let readDeadline = Date().addingTimeInterval(60)
        while (try rpc(monitor, "health", id: 7)["result"]?["queued"]?.intValue ?? 0) < count - 1 && Date() < readDeadline {
            usleep(10_000)   // polling a condition with a deadline
        }
        #expect((try rpc(monitor, "health", id: 8)["result"]?["queued"]?.intValue ?? 0) >= count - 1)

        let signalled = Date()
        serve.child.send(SIGTERM)
        let code = serve.child.wait(timeout: 30)
        let elapsed = Date().timeIntervalSince(signalled)
        print(String(format: "stop: exit %@ %.2f s after SIGTERM (stop_timeout_ms 1500)", "\(code.map(String.init) ?? "none")", elapsed))
        #expect(code == 0, "exit \(String(describing: code)): \(serve.child.output)")
        #expect(elapsed < 1.5 + 2.0, "stopped after \(elapsed) s")

        // Every request read was answered before the connections closed.
        let call = try JSONParser.parse(try caller.readLine(timeout: 5))
        #expect(call["error"]?["code"]?.intValue == RPCErrorCode.shuttingDown.rawValue, "\(call)")
        var codes: [Int: Int?] = [:]
        for _ in 0..<count {
            let answer = try JSONParser.parse(try slow.readLine(timeout: 5))
            codes[answer["id"]?.intValue ?? -1] = answer["error"]?["code"]?.intValue
        }
        #expect(codes.count == count)
        let shuttingDown = codes.values.filter { $0 == RPCErrorCode.shuttingDown.rawValue }.count
        let answered = codes.values.filter { $0 == nil }.count
        #expect(shuttingDown + answered == count, "\(codes)")
        #expect(shuttingDown >= 1, "the stop deadline cut nothing short: \(codes)")
    }
}
