// Where the trainer runs: the venv's marker, the trainer lookup, the Python version check, the arguments.

import Foundation
import Testing
@testable import Training

@Suite("Trainer environment")
struct TrainerEnvironmentTests {
    /// A fresh empty folder under the temporary directory.
    static func scratch(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("toolrouter-train-test-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the venv is missing without an interpreter, stale without a matching marker, ready with one; a new requirements file makes it stale")
    func venvMarker() throws {
        let dir = try Self.scratch("venv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let requirements = dir + "/requirements.txt"
        try "torch==1.0  # comment\n\n# only a comment\npeft==2.0\n".write(toFile: requirements, atomically: true, encoding: .utf8)
        let venv = TrainerVenv(directory: dir + "/env", requirements: requirements)
        let hash = try venv.requirementsHash()
        #expect(venv.state(requirementsHash: hash) == .missing)
        try FileManager.default.createDirectory(atPath: dir + "/env/bin", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: venv.python, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        #expect(venv.state(requirementsHash: hash) == .stale)
        try (hash + "\n").write(toFile: venv.markerPath, atomically: true, encoding: .utf8)
        #expect(venv.state(requirementsHash: hash) == .ready)
        #expect(venv.packages() == ["torch==1.0", "peft==2.0"])
        #expect(venv.installNotice().contains("torch==1.0 peft==2.0") && venv.installNotice().contains("GB"))
        try "torch==1.1\n".write(toFile: requirements, atomically: true, encoding: .utf8)
        #expect(venv.state(requirementsHash: try venv.requirementsHash()) == .stale)
    }

    @Test("the default venv lives under XDG_CACHE_HOME, else ~/.cache")
    func defaultVenv() {
        #expect(TrainerVenv.defaultDirectory(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]) == "/c/toolrouter/train-venv")
        #expect(TrainerVenv.defaultDirectory(environment: ["XDG_CACHE_HOME": "", "HOME": "/h"]) == "/h/.cache/toolrouter/train-venv")
        #expect(TrainerVenv(directory: "/x", requirements: "/r").directory == "/x")
    }

    @Test("trainer lookup: $TOOLROUTER_TRAINER_DIR, ./training, then the checkout's training/, then <prefix>/share/toolrouter/training")
    func trainerLookup() throws {
        let candidates = TrainerLocator.candidates(environment: ["TOOLROUTER_TRAINER_DIR": "/env/training"],
                                                   executable: "/src/repo/.build/release/toolrouter", workingDirectory: "/cwd")
        #expect(candidates == ["/env/training", "/cwd/training", "/src/repo/training", "/src/training", "/src/repo/.build/share/toolrouter/training"])
        #expect(TrainerLocator.candidates(environment: [:], executable: "/usr/local/bin/toolrouter").last == "/usr/local/share/toolrouter/training")

        let root = try Self.scratch("prefix")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let share = root + "/share/toolrouter/training"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        #expect(throws: TrainerSetupError.self) { try TrainerLocator.resolve(environment: [:], executable: root + "/bin/toolrouter", workingDirectory: root + "/elsewhere") }
        for file in ["trainer.py", "requirements.txt"] { _ = FileManager.default.createFile(atPath: share + "/" + file, contents: Data()) }
        #expect(try TrainerLocator.resolve(environment: [:], executable: root + "/bin/toolrouter", workingDirectory: root + "/elsewhere") == share)
        #expect(try TrainerLocator.resolve(environment: ["TOOLROUTER_TRAINER_DIR": share], executable: "/nowhere/bin/toolrouter", workingDirectory: root + "/elsewhere") == share)
    }

    @Test("Python 3.10 and later qualify; the error for none names the Debian fix")
    func pythonVersions() {
        #expect(PythonLocator.isSupported("3.10") && PythonLocator.isSupported("3.13") && PythonLocator.isSupported("4.0"))
        #expect(!PythonLocator.isSupported("3.9") && !PythonLocator.isSupported("2.7") && !PythonLocator.isSupported("") && !PythonLocator.isSupported("x"))
        do {
            _ = try PythonLocator.resolve(environment: ["TOOLROUTER_PYTHON": "/nonexistent/python3"])
            Issue.record("a missing interpreter was accepted")
        } catch {
            #expect(error.description.contains("apt install python3 python3-venv"), "\(error)")
        }
    }

    @Test("trainer.py gets every setting")
    func arguments() {
        var settings = TrainerSettings(rowsFile: "rows.jsonl", model: "m.gguf", out: "out")
        settings.initAdapter = "prev"
        settings.maxSteps = 3
        let args = settings.arguments
        func value(_ flag: String) -> String? { args.firstIndex(of: flag).map { args[$0 + 1] } }
        #expect(value("--rows") == "rows.jsonl" && value("--model") == "m.gguf" && value("--out") == "out")
        #expect(value("--init") == "prev" && value("--max-steps") == "3" && value("--r") == "8" && value("--alpha") == "16")
        #expect(value("--targets") == "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    }
}
