// `allowed_gids` and supplementary groups (issue 11, item 3): a peer started with setpriv whose only link
// to the allowed gid is a supplementary group is admitted; one without it is refused. Over a real socket
// (the handler socket, which needs no model); plus the parsing of SO_PEERGROUPS and /proc answers.

import Foundation
import JSON
import Logging
import Testing
import TestSupport
import ToolCalls
@testable import Daemon

/// Connects, sends `register`, prints the one line that comes back (the registration's answer, or the
/// gate's refusal).
private let registerOnce = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
try:
    sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":["track_order"]}}\\n')
except OSError:
    pass   # refused peers may find the connection closed already; the refusal is still there to read
print(sock.makefile("rb").readline().decode().strip(), flush=True)
"""

extension SocketSuites {
    @Suite("Peer credentials: supplementary groups", .serialized)
    struct PeerGroupsSocketTests {
        @Test("allowed_gids admits a peer through a supplementary group, and refuses one without it (forbidden)")
        func supplementaryGroups() async throws {
            let directory = NSTemporaryDirectory() + "toolrouter-groups-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let script = directory + "/register-once.py"
            try registerOnce.write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o644)
            let catalogue = try ToolCatalogue(contentsOf: TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path)
            let server = try await AgentServer.startHandlers(registry: HandlerRegistry(catalogues: [("support", catalogue)]),
                                                             path: directory + "/handlers.sock", mode: 0o666, maxLineBytes: 1 << 16,
                                                             access: AccessPolicy(allowedGIDs: [Stranger.otherGID]))
            // Primary gid Stranger.gid, never allowed; only the supplementary group differs between the two peers.
            for (group, admitted) in [(Stranger.otherGID, true), (Stranger.unrelatedGID, false)] {
                let peer = try ChildProcess("/usr/bin/setpriv", ["--reuid=\(Stranger.uid)", "--regid=\(Stranger.gid)", "--groups=\(group)",
                                                                 systemPython, script, server.path], log: "peer")
                #expect(peer.wait(timeout: 30) == 0, "\(peer.output)")
                let reply = try JSONParser.parse(peer.output.trimmingCharacters(in: .whitespacesAndNewlines))
                if admitted {
                    #expect(reply["result"]?["registered"] == .array([.string("track_order")]), "group \(group): \(JSONWriter.compact(reply))")
                } else {
                    #expect(reply["error"]?["code"]?.intValue == RPCErrorCode.forbidden.rawValue, "group \(group): \(JSONWriter.compact(reply))")
                }
                peer.stop()
            }
            await server.close()
        }
    }
}

@Suite("Peer groups: SO_PEERGROUPS buffers, /proc status lines, the allow-list")
struct PeerGroupsTests {
    @Test("a zero-padded SO_PEERGROUPS buffer keeps everything up to the last non-zero gid; all zeros is undecided")
    func decode() {
        #expect(PeerGroups.decode([27, 100, 64125, 0, 0, 0]) == [27, 100, 64125])
        #expect(PeerGroups.decode([0, 5, 0, 0]) == [0, 5])
        #expect(PeerGroups.decode([0, 0, 0]) == nil)
        #expect(PeerGroups.decode([7]) == [7])
    }

    @Test("the Groups: line of /proc/<pid>/status, and this process's own")
    func procStatus() {
        #expect(PeerGroups.parseStatus("Name:\tx\nGid:\t0\t0\t0\t0\nGroups:\t4 24 27 \nNgid:\t0\n") == [4, 24, 27])
        #expect(PeerGroups.parseStatus("Groups:\t\n") == [])
        #expect(PeerGroups.parseStatus("Name:\tx\n") == nil)
        var own = [gid_t](repeating: 0, count: 256)
        let count = getgroups(Int32(own.count), &own)
        #expect(PeerGroups.fromProc(pid: getpid()).map(Set.init) == Set(own.prefix(Int(max(0, count)))))
    }

    @Test("allowed_gids matches the primary gid or any supplementary one")
    func policy() {
        let peer = PeerCredentials(pid: 1, uid: 1000, gid: 100, groups: [27, 64125])
        #expect(AccessPolicy(allowedGIDs: [64125]).allows(peer))
        #expect(AccessPolicy(allowedGIDs: [100]).allows(peer))
        #expect(!AccessPolicy(allowedGIDs: [64126]).allows(peer))
        #expect(!AccessPolicy(allowedUIDs: [0], allowedGIDs: [5]).allows(peer))
    }
}
