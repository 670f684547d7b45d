// The agent and handler sockets attacked the way a local process could, against the real `toolrouter serve`:
// a second instance on the same path, a half-closing client, a client flooding bad lines without reading,
// pipelined requests whose order must survive, idle connections holding every slot, and a process out of
// file descriptors. Each test reproduces a defect of issue 11 and checks the documented behaviour.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

private func json(_ line: String?) throws -> JSONValue { try JSONParser.parse(line ?? "null") }
private func errorCode(_ line: String?) throws -> Int? { try json(line)["error"]?["code"]?.intValue }

private let register = #"{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":["track_order"]}}"#

/// A `route` that forces `track_order` (a short, deterministic decode), with `padding` spaces of JSON whitespace
/// inside the object (legal JSON that takes the parser a while).
private func routeLine(id: Int, padding: Int = 0) -> [UInt8] {
    Array((#"{"jsonrpc":"2.0","# + String(repeating: " ", count: padding)
        + #""id":\#(id),"method":"route","params":{"input":"Where is my order ORD-\#(5500 + id)?","tool_choice":"track_order"}}"#).utf8)
}

extension SocketSuites {
    @Suite("Socket hardening: the real daemon under local attacks", .serialized)
    struct SocketHardeningTests {
        @Test("a second serve on a live socket path fails naming the path; the first keeps serving")
        func secondInstanceRefused() throws {
            let first = try ServeChild(name: "first")
            defer { first.child.stop() }
            try first.waitUntilServing()
            let second = try ServeChild(directory: first.directory, handlerSocket: first.directory + "/handlers-2.sock", name: "second")
            defer { second.child.stop() }
            let code = second.child.wait(timeout: 60)
            #expect(code == 1, "the second instance must exit 1 with its error, not run on or crash: \(String(describing: code))")
            #expect(second.child.output.contains("another process is listening on \(first.agentSocket)"), "\(second.child.output)")
            #expect(first.isHealthy(), "the first instance stopped answering on its path")
        }

        @Test("the socket files of a killed daemon are replaced by the next one")
        func staleSocketReplaced() throws {
            let killed = try ServeChild(name: "killed")
            try killed.waitUntilServing()
            killed.child.stop(signal: SIGKILL)
            var info = stat()
            #expect(lstat(killed.agentSocket, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK, "the killed daemon left no socket file")
            let next = try ServeChild(directory: killed.directory, name: "next")
            defer { next.child.stop() }
            try next.waitUntilServing()
            #expect(next.isHealthy())
        }

        @Test("a client that half-closes after its requests gets every answer, then end of stream")
        func halfClose() throws {
            let daemon = try ServeChild()
            defer { daemon.child.stop() }
            try daemon.waitUntilServing()
            let client = try RawSocket(path: daemon.agentSocket)
            // Two requests, the second without its newline: end of stream ends the last line.
            try client.write(routeLine(id: 1) + [0x0A] + Array(#"{"jsonrpc":"2.0","id":2,"method":"health"}"#.utf8))
            client.shutdownWrite()
            var ids: Set<Int> = []
            for _ in 0..<2 {
                let reply = try json(client.readLine(timeout: 120))
                #expect(reply["error"] == nil, "\(JSONWriter.compact(reply))")
                if let id = reply["id"]?.intValue { ids.insert(id) }
            }
            #expect(ids == [1, 2])
            #expect(try client.readLine(timeout: 30) == nil, "the connection stayed open after the last answer")
            #expect(daemon.isHealthy())
        }

        @Test("pipelined routes on one connection reach the worker in line order, however long each line takes to parse")
        func pipelinedOrder() throws {
            let daemon = try ServeChild()
            defer { daemon.child.stop() }
            try daemon.waitUntilServing()
            let client = try RawSocket(path: daemon.agentSocket)
            // Each round: a line padded with ~0.9 MB of whitespace, then 7 short ones read with its end. Parsed
            // as one task per line, the short lines reach the queue before the long one; the single worker
            // answers in queue order, tens of ms apart.
            for round in 0..<4 {
                var batch: [UInt8] = []
                for id in 0..<8 { batch += routeLine(id: round * 8 + id, padding: id == 0 ? 900_000 : 0) + [0x0A] }
                try client.write(batch)
                var order: [Int] = []
                for _ in 0..<8 {
                    let reply = try json(client.readLine(timeout: 120))
                    #expect(reply["result"]?["call"]?["tool"]?.stringValue == "track_order", "\(JSONWriter.compact(reply).prefix(300))")
                    order.append(reply["id"]?.intValue ?? -1)
                }
                #expect(order == Array(round * 8..<round * 8 + 8), "round \(round)")
            }
        }

        @Test("clients flooding bad lines without reading: RSS grows < 20 MB, health answers throughout")
        func floodWithoutReading() throws {
            let daemon = try ServeChild()
            defer { daemon.child.stop() }
            try daemon.waitUntilServing()
            #expect(daemon.isHealthy())
            let baseline = daemon.residentBytes
            var peak = baseline
            let chunk = [UInt8](repeating: 0, count: 32 * 1024).flatMap { _ in [UInt8(ascii: "x"), 0x0A] }
            var flooders: [RawSocket] = []
            for connection in 0..<16 {
                let client = try RawSocket(path: daemon.agentSocket)
                flooders.append(client)
                var sent = 0
                // Writes until 10 MB went out or the daemon stopped reading (nothing could be written for 1 s).
                while sent < 10 << 20 {
                    let n = try client.writeWithoutBlocking(chunk)
                    sent += n
                    if n == 0 {
                        var poller = pollfd(fd: client.fd, events: Int16(POLLOUT), revents: 0)
                        if poll(&poller, 1, 1000) == 0 { break }
                    }
                    if sent % (1 << 20) < chunk.count { peak = max(peak, daemon.residentBytes) }
                }
                peak = max(peak, daemon.residentBytes)
                #expect(daemon.isHealthy(timeout: 10), "health did not answer during flooder \(connection)")
                if connection == 0 { #expect(sent < 10 << 20, "the daemon read all 10 MB without its answers being read") }
            }
            let growth = peak - baseline
            print(String(format: "agent flood: 16 connections; RSS %.1f MiB → peak %.1f MiB (+%.1f MiB)",
                         Double(baseline) / 1048576, Double(peak) / 1048576, Double(growth) / 1048576))
            #expect(growth < 20 << 20, "RSS grew by \(growth >> 20) MB (baseline \(baseline >> 20) MB, peak \(peak >> 20) MB)")
            flooders.removeAll()
            #expect(daemon.isHealthy())
        }

        @Test("idle connections are closed after idle_timeout_ms with one error line; a registered handler stays")
        func idleConnectionsExpire() throws {
            let daemon = try ServeChild(["--max-connections", "3", "--idle-timeout-ms", "300"])
            defer { daemon.child.stop() }
            try daemon.waitUntilServing()
            // Three silent handler connections hold every slot until they time out.
            let idle = try (0..<3).map { _ in try RawSocket(path: daemon.handlerSocket) }
            for client in idle {
                #expect(try errorCode(client.readLine(timeout: 10)) == RPCErrorCode.idleTimeout.rawValue)
                #expect(try client.readLine(timeout: 10) == nil)
            }
            let handler = try RawSocket(path: daemon.handlerSocket)
            try handler.write(Array(register.utf8) + [0x0A])
            #expect(try json(handler.readLine(timeout: 10))["result"] != nil)
            #expect(throws: ClientError.self, "a registered handler was timed out") { _ = try handler.readLine(timeout: 1.5) }

            // Agents: a silent connection and one that never finishes its line are closed; a busy one is not.
            let silent = try RawSocket(path: daemon.agentSocket)
            let partial = try RawSocket(path: daemon.agentSocket)
            try partial.write(Array(#"{"jsonrpc":"2.0","id":1,"#.utf8))
            for client in [silent, partial] {
                #expect(try errorCode(client.readLine(timeout: 10)) == RPCErrorCode.idleTimeout.rawValue)
                #expect(try client.readLine(timeout: 10) == nil)
            }
            // A client that sends and never reads holds nothing busy: it is closed too.
            let deaf = try RawSocket(path: daemon.agentSocket)
            let health = Array(#"{"jsonrpc":"2.0","id":1,"method":"health"}"#.utf8) + [0x0A]
            let flood = Array((0..<1000).map { _ in health }.joined())
            var hungUp = false
            let deadline = Date().addingTimeInterval(20)
            while !hungUp && Date() < deadline {
                _ = try? deaf.writeWithoutBlocking(flood)
                var poller = pollfd(fd: deaf.fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 100)
                hungUp = poller.revents & Int16(POLLHUP) != 0
            }
            #expect(hungUp, "a client leaving its answers unread kept its connection")

            let busy = try RawSocket(path: daemon.agentSocket)
            for i in 0..<12 {
                try busy.write(Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"health"}"#.utf8) + [0x0A])
                #expect(try json(busy.readLine(timeout: 10))["id"]?.intValue == i)
                Thread.sleep(forTimeInterval: 0.15)   // pacing, the subject of the test: requests 150 ms apart, under the 300 ms timeout
            }
        }

        @Test("at start the soft descriptor limit is raised toward the hard one, and max_connections must fit it")
        func descriptorLimitAtStart() throws {
            let tooMany = try ServeChild(launcher: ["/usr/bin/prlimit", "--nofile=64:64", "--"], name: "nofile-64")
            defer { tooMany.child.stop() }
            #expect(tooMany.child.wait(timeout: 60) == 1, "started (or crashed) with 256 connections per socket on 64 descriptors")
            #expect(tooMany.child.output.contains("max_connections"), "\(tooMany.child.output)")
            let raised = try ServeChild(launcher: ["/usr/bin/prlimit", "--nofile=64:4096", "--"], name: "nofile-raise")
            defer { raised.child.stop() }
            try raised.waitUntilServing()
            let limits = (try? String(contentsOfFile: "/proc/\(raised.child.pid)/limits", encoding: .utf8)) ?? ""
            #expect(limits.split(separator: "\n").contains { $0.hasPrefix("Max open files") && $0.contains("4096                 4096") }, "\(limits)")
        }

        @Test("out of descriptors: accept backs off (CPU stays low), waiting clients are answered overloaded, health recovers")
        func descriptorExhaustion() throws {
            let daemon = try ServeChild(["--max-connections", "8"], launcher: ["/usr/bin/prlimit", "--nofile=64:64", "--"])
            defer { daemon.child.stop() }
            try daemon.waitUntilServing()
            // Leave room for two more descriptors only, as if something else had taken the rest.
            let open = ProcStats.openDescriptors(pid: daemon.child.pid)
            let prlimit = try ChildProcess("/usr/bin/prlimit", ["--pid", "\(daemon.child.pid)", "--nofile=\(open + 2):\(open + 2)"], log: "prlimit")
            #expect(prlimit.wait(timeout: 10) == 0)
            var clients = try (0..<30).map { _ in try RawSocket(path: daemon.agentSocket) }
            let before = ProcStats.cpuSeconds(pid: daemon.child.pid)
            let start = Date()
            // Every client beyond the free descriptors is told `overloaded` and closed, none hangs.
            var overloaded = 0
            let deadline = start.addingTimeInterval(10)
            for client in clients {
                let line = try? client.readLine(timeout: max(0.05, deadline.timeIntervalSinceNow))
                if let line, (try? errorCode(line)) == RPCErrorCode.overloaded.rawValue { overloaded += 1 }
            }
            let window = Date().timeIntervalSince(start)
            if window < 1 { Thread.sleep(forTimeInterval: 1 - window) }   // a measuring window of at least 1 s, not synchronisation
            let share = (ProcStats.cpuSeconds(pid: daemon.child.pid) - before) / Date().timeIntervalSince(start)
            #expect(share < 0.3, "the daemon used \(Int(share * 100)) % of a core while out of descriptors")
            #expect(overloaded >= 25, "\(overloaded) of 30 clients were answered overloaded")
            clients.removeAll()
            let freed = waitUntil(timeout: 30) { daemon.isHealthy(timeout: 2) }
            #expect(freed, "health did not answer once the clients were gone")
        }
    }
}
