// The unit files in systemd/: `systemd-analyze verify` is clean and `systemd-analyze security` rates the
// service's exposure at 1.0 or less (both work offline, without systemd running), and the units agree
// with the daemon on socket names and the notify protocol.

import Foundation
import Testing
import TestSupport
@testable import Daemon

/// The four unit files copied to a temporary directory, with ExecStart= pointing at the built binary
/// (verify checks that the executable exists), as scripts/install rewrites it for $PREFIX.
private func unitCopies() throws -> String {
    let dir = try temporaryDirectory("units")
    let source = TestPaths.packageRoot.appendingPathComponent("systemd").path
    let binary = try TestPaths.toolrouterBinary()
    for name in ["toolrouter.service", "toolrouter-agent.socket", "toolrouter-handlers.socket", "toolrouter-http.socket"] {
        let text = try String(contentsOfFile: source + "/" + name, encoding: .utf8)
        try text.replacingOccurrences(of: "/usr/local/bin/toolrouter", with: binary).write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }
    return dir
}

/// Runs systemd-analyze with `arguments` in `dir`: exit status and everything it printed.
private func systemdAnalyze(_ arguments: [String], in dir: String) throws -> (status: Int32, output: String) {
    let executable = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let executable else { throw TestSocketError("systemd-analyze is not installed: run scripts/setup (it installs Debian's systemd package)") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: dir)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// The `Key=value` lines of a unit file (comments and sections left out).
private func assignments(_ name: String) throws -> [(key: String, value: String)] {
    let text = try String(contentsOfFile: TestPaths.packageRoot.appendingPathComponent("systemd/" + name).path, encoding: .utf8)
    return text.split(separator: "\n").compactMap { line in
        guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
        return (String(line[..<equals]), String(line[line.index(after: equals)...]))
    }
}

extension SocketSuites {
    @Suite("systemd: the unit files", .serialized)
    struct SystemdUnitFileTests {
        @Test("systemd-analyze verify: the service and its three socket units are clean")
        func verify() throws {
            let dir = try unitCopies()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let result = try systemdAnalyze(["verify", "./toolrouter.service", "./toolrouter-agent.socket", "./toolrouter-handlers.socket", "./toolrouter-http.socket"], in: dir)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "warnings:\n\(result.output)")
        }

        @Test("systemd-analyze security --offline=true: overall exposure at most 1.0")
        func security() throws {
            let dir = try unitCopies()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let result = try systemdAnalyze(["security", "--offline=true", "--no-pager", "./toolrouter.service"], in: dir)
            #expect(result.status == 0, "\(result.output)")
            let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(result.output)")
            let score = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
            #expect(score.map { $0 <= 1.0 } == true, "\(line)")
            for setting in ["MemoryDenyWriteExecute=", "PrivateNetwork=", "RestrictAddressFamilies=~AF_(INET|INET6)", "NoNewPrivileges=",
                            "CapabilityBoundingSet=~CAP_SYS_ADMIN", "ProtectSystem=", "SystemCallArchitectures="] {
                let item = result.output.split(separator: "\n").first { $0.dropFirst(2).hasPrefix(setting) }
                #expect(item?.hasPrefix("✓") == true, "\(setting): \(item.map(String.init) ?? "not listed")")
            }
        }

        @Test("scripts/install honours PREFIX and DESTDIR: binary, model, config, catalogues, units with ExecStart under PREFIX")
        func install() throws {
            let dir = try temporaryDirectory("install")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try "not a real model".write(toFile: dir + "/tiny.gguf", atomically: true, encoding: .utf8)
            let root = dir + "/root"
            let install = try ChildProcess(TestPaths.packageRoot.appendingPathComponent("scripts/install").path, [],
                                           environment: ["DESTDIR": root, "PREFIX": "/opt/tr", "BINARY": try TestPaths.toolrouterBinary(),
                                                         "MODEL": dir + "/tiny.gguf"], log: "install")
            #expect(install.wait(timeout: 120) == 0, "\(install.output)")
            for path in ["/opt/tr/bin/toolrouter", "/opt/tr/share/toolrouter/models/SmolLM2-135M-Instruct.Q4_1.gguf",
                         "/opt/tr/share/toolrouter/training/trainer.py", "/opt/tr/share/toolrouter/training/requirements.txt",
                         "/etc/toolrouter/toolrouter.json", "/etc/toolrouter/catalogues/support.tools.json",
                         "/etc/systemd/system/toolrouter-agent.socket", "/etc/systemd/system/toolrouter-handlers.socket",
                         "/etc/systemd/system/toolrouter-http.socket"] {
                #expect(FileManager.default.fileExists(atPath: root + path), "\(path) missing")
            }
            #expect(FileManager.default.isExecutableFile(atPath: root + "/opt/tr/bin/toolrouter"))
            let unit = try String(contentsOfFile: root + "/etc/systemd/system/toolrouter.service", encoding: .utf8)
            #expect(unit.contains("ExecStart=/opt/tr/bin/toolrouter serve --config /etc/toolrouter/toolrouter.json\n"))
            let config = try DaemonConfig.load(path: root + "/etc/toolrouter/toolrouter.json")
            #expect(config.model == "/opt/tr/share/toolrouter/models/SmolLM2-135M-Instruct.Q4_1.gguf")
            #expect(config.handlerSocketMode == 0o660 && config.handlerAllowedUIDs == nil && config.handlerAllowedGIDs == nil)
            #expect(config.catalogues.map(\.file) == ["/etc/toolrouter/catalogues/support.tools.json", "/etc/toolrouter/catalogues/devops.tools.json"])
            // The demo adapters are installed by default and the config names them under PREFIX.
            #expect(config.catalogues.map(\.adapter) == ["/opt/tr/share/toolrouter/adapters/support", "/opt/tr/share/toolrouter/adapters/devops"])
            for name in ["support", "devops"] {
                for file in ["adapter_config.json", "adapter_model.safetensors"] {
                    let installed = root + "/opt/tr/share/toolrouter/adapters/\(name)/\(file)"
                    #expect(FileManager.default.contentsEqual(atPath: installed, andPath: TestPaths.packageRoot.appendingPathComponent("adapters/\(name)/\(file)").path),
                            "\(installed)")
                }
            }
        }

        @Test("the units and the daemon agree: socket names, notify protocol, reload by SIGHUP, watchdog")
        func agreement() throws {
            let service = try assignments("toolrouter.service")
            func value(_ key: String) -> [String] { service.filter { $0.key == key }.map(\.value) }
            #expect(value("Type") == ["notify"])
            #expect(value("NotifyAccess") == ["main"])
            #expect(value("ExecReload") == ["/bin/kill -HUP $MAINPID"])
            #expect(value("WatchdogSec").count == 1)
            #expect(value("Sockets") == ["toolrouter-agent.socket toolrouter-handlers.socket toolrouter-http.socket"])
            #expect(value("ExecStart").first?.hasPrefix("/usr/local/bin/toolrouter serve --config ") == true)
            // Agents and handlers are different groups: an agent's user must not be able to serve (and so read) tool calls.
            for (unit, name, group) in [("toolrouter-agent.socket", "agent", "toolrouter"), ("toolrouter-handlers.socket", "handlers", "toolrouter-handlers"),
                                        ("toolrouter-http.socket", "http", "toolrouter")] {
                let socket = try assignments(unit)
                #expect(socket.filter { $0.key == "FileDescriptorName" }.map(\.value) == [name], "\(unit)")
                #expect(SocketActivation.socketNames.contains(name))
                #expect(socket.filter { $0.key == "ListenStream" }.count == 1, "\(unit): one socket per unit (one name per unit)")
                #expect(socket.contains { $0.key == "SocketMode" && $0.value == "0660" })
                #expect(socket.filter { $0.key == "SocketGroup" }.map(\.value) == [group], "\(unit)")
            }
        }
    }
}
