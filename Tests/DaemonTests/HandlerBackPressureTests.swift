// Handler socket back-pressure (issue 11, item 8) and bad handler answers (item 15), with the real binary.
//
// A handler connection that floods lines and never reads its answers must not grow the daemon's memory, and
// `health` keeps answering meanwhile. A handler answer that is too long, not JSON, not UTF-8 or too deep
// fails the agent's call at once with `handlerProtocolError` and closes that handler's connection.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

/// `count` lines of `line` (a newline is added to each).
private func lines(_ line: String, count: Int = 1) -> [UInt8] {
    Array(String(repeating: line + "\n", count: count).utf8)
}

extension SocketSuites {
    @Suite("Handler socket: floods and bad answers", .serialized)
    struct HandlerBackPressureTests {
        /// Floods `chunk` (10 MB at most) on a fresh handler connection while checking `health` and the
        /// daemon's RSS; the outcome and the largest RSS growth in MiB.
        private static func flood(_ daemon: ServeChild, _ client: AgentClient, _ chunk: [UInt8]) throws -> (Flooder.Outcome, Double) {
            #expect(try rpc(client, "health")["result"]?["status"]?.stringValue == "ok")
            let baseline = daemon.residentKiB
            var peak = baseline
            var healthChecks = 0
            let flooder = try Flooder(path: daemon.handlerSocket)
            let outcome = try flooder.flood(chunk, total: 10 << 20, checkEvery: 512 << 10) {
                let health = try rpc(client, "health", id: 1000 + healthChecks, timeout: 10)
                #expect(health["result"]?["status"]?.stringValue == "ok", "health during the flood: \(JSONWriter.compact(health))")
                healthChecks += 1
                peak = max(peak, daemon.residentKiB)
            }
            #expect(healthChecks >= 2)
            let grown = Double(peak - baseline) / 1024
            print("handler flood: \(outcome) after \(flooder.written) bytes; RSS \(baseline / 1024) MiB → peak \(peak / 1024) MiB (+\(String(format: "%.1f", grown)) MiB); \(healthChecks) health checks")
            return (outcome, grown)
        }

        @Test("10 MB of bad lines, never read: the first bad line closes the connection; RSS grows < 20 MB; health answers throughout")
        func garbageFlood() throws {
            let daemon = try ServeChild(socketMode: nil, directoryMode: 0o755, name: "hard-serve")
            let client = try daemon.connect()
            let (outcome, grown) = try Self.flood(daemon, client, lines("this is not JSON-RPC, not even JSON", count: 4096))
            #expect(outcome == .closed)
            #expect(grown < 20)
            #expect(daemon.child.stop() == 0)
        }

        @Test("10 MB of requests whose answers are never read: the daemon stops reading; RSS grows < 20 MB; health answers throughout")
        func unreadAnswersFlood() throws {
            let daemon = try ServeChild(socketMode: nil, directoryMode: 0o755, name: "hard-serve")
            let client = try daemon.connect()
            let (outcome, grown) = try Self.flood(daemon, client, lines(#"{"jsonrpc":"2.0","id":1,"method":"launch_rockets"}"#, count: 4096))
            #expect(outcome == .stalled, "the daemon must stop reading a connection that does not read its answers")
            #expect(grown < 20)
            #expect(daemon.child.stop() == 0)
        }

        @Test("an oversize, malformed, non-UTF-8 or too deep answer: the call fails at once with handlerProtocolError; the handler is disconnected; the daemon serves on")
        func badAnswers() throws {
            let daemon = try ServeChild(["--handler-timeout-ms", "30000", "--max-message-bytes", "4096"], socketMode: nil, directoryMode: 0o755, name: "hard-serve")
            let client = try daemon.connect()
            let answers: [(String, (Int) -> [UInt8])] = [
                ("oversize", { id in lines(#"{"jsonrpc":"2.0","id":\#(id),"result":""# + String(repeating: "x", count: 5000) + #""}"#) }),
                ("malformed", { id in lines(#"{"jsonrpc":"2.0","id":\#(id),"result":"#) }),
                ("invalid UTF-8", { id in Array(#"{"jsonrpc":"2.0","id":\#(id),"result":""#.utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8) }),
                ("too deep", { id in lines(#"{"jsonrpc":"2.0","id":\#(id),"result":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}") }),
            ]
            for (index, (kind, answer)) in answers.enumerated() {
                let handler = try RawHandler(socket: daemon.handlerSocket)
                #expect(try eventually(within: 30) { try handlerCount(client, "track_order") == 1 }, "\(kind)")
                try client.send(line: JSONWriter.compact(.object([("jsonrpc", .string("2.0")), ("id", .number(JSONNumber(index + 1))),
                                                                  ("method", .string("call")), ("params", trackOrderCall)])))
                let invokeID = try handler.nextInvokeID()
                let sent = Date()
                try handler.client.write(answer(invokeID))
                let reply = try JSONParser.parse(try client.readLine(timeout: 60))
                let elapsed = Date().timeIntervalSince(sent)
                #expect(reply["id"]?.intValue == index + 1)
                #expect(reply["error"]?["code"]?.intValue == RPCErrorCode.handlerProtocolError.rawValue, "\(kind): \(JSONWriter.compact(reply))")
                #expect(reply["error"]?["data"]?["call"]?["tool"]?.stringValue == "track_order", "\(kind)")
                #expect(elapsed < 5, "\(kind): answered after \(elapsed) s; the handler timeout is 30 s")
                // The handler is told why, then disconnected; its tool goes offline; the daemon answers on.
                let told = try JSONParser.parse(try handler.client.readLine(timeout: 10))
                #expect(told["error"] != nil, "\(kind): \(JSONWriter.compact(told))")
                do { _ = try handler.client.readLine(timeout: 10); Issue.record("\(kind): the handler's connection stayed open") } catch .closed {} catch {
                    Issue.record("\(kind): \(error)")
                }
                #expect(try eventually(within: 10) { try handlerCount(client, "track_order") == 0 }, "\(kind)")
                #expect(try rpc(client, "health")["result"]?["status"]?.stringValue == "ok")
            }
            #expect(daemon.child.stop() == 0)
        }
    }
}
