// Token masks warmed after READY, on the real binary: ready first, then the warm-up's log line with the
// entries it computed; requests served meanwhile are answered; a reload warms its new pipeline too.

import Foundation
import JSON
import Testing
import TestSupport

extension SocketSuites {
    @Suite("Mask warm-up after ready: the real binary", .serialized)
    struct MaskWarmUpDaemonTests {
        static let warmed = "token masks warmed"

        @Test("ready comes before the masks are warmed; the warm-up logs its entries; a reload warms again; routes meanwhile answer")
        func warmedAfterReady() throws {
            let serve = try ServeChild(name: "warm-up")
            defer { serve.child.stop() }
            let client = try serve.connect()
            defer { client.disconnect() }
            let request = #"{"jsonrpc":"2.0","id":1,"method":"route","params":{"input":"Where is my order ORD-55821?","tool_choice":"track_order"}}"#
            let first = try client.request(request, timeout: 60)
            #expect(first.contains("\"track_order\""), "\(first)")
            let log = serve.child.waitForOutput(Self.warmed, count: 1)
            let ready = try #require(log.range(of: "notice toolrouter: ready"), "\(log.suffix(2000))")
            let warm = try #require(log.range(of: Self.warmed), "no warm-up line: \(log.suffix(2000))")
            #expect(ready.lowerBound < warm.lowerBound, "the masks were warmed before ready")
            let line = String(log[warm.lowerBound...].prefix { $0 != "\n" })
            let entries = line.components(separatedBy: "entries=").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) }
            #expect((entries ?? 0) > 0, "the warm-up computed nothing: \(line)")
            #expect(line.contains("catalogues=support"), "\(line)")

            serve.child.send(SIGHUP)
            let reloaded = serve.child.waitForOutput(Self.warmed, count: 2)
            #expect(reloaded.contains("notice toolrouter: reloaded"), "\(reloaded.suffix(2000))")
            #expect(reloaded.components(separatedBy: Self.warmed).count - 1 == 2, "the reloaded pipeline was not warmed: \(reloaded.suffix(2000))")
            let again = try client.request(request.replacingOccurrences(of: "\"id\":1", with: "\"id\":2"), timeout: 60)
            #expect(again.contains("\"track_order\""), "\(again)")
        }
    }
}

