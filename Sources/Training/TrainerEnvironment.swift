// Where the torch trainer runs: a Python ≥ 3.10 with venv, a virtual environment of toolrouter's own (created
// once, reused while the requirements file is unchanged), and the trainer scripts (checkout or installed).

import Foundation
import ProcessSpawn
import ToolCalls

/// Why the trainer cannot run; each message names the fix.
public struct TrainerSetupError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The trainer scripts' folder: `trainer.py` and `requirements.txt`.
public enum TrainerLocator {
    /// The places searched, in order: `$TOOLROUTER_TRAINER_DIR`, `./training/` (a checkout as the working
    /// directory, as the model lookup does), the `training/` folder of the checkout the
    /// binary was built in (`.build/<config>/toolrouter` or `.build/<triple>/<config>/toolrouter`), and
    /// `<prefix>/share/toolrouter/training/` beside an installed `<prefix>/bin/toolrouter`.
    public static func candidates(environment: [String: String], executable: String,
                                  workingDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        var paths: [String] = []
        if let env = environment["TOOLROUTER_TRAINER_DIR"], !env.isEmpty { paths.append(env) }
        paths.append(URL(fileURLWithPath: workingDirectory).appendingPathComponent("training").path)
        let binDir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for up in [2, 3] {
            var dir = binDir
            for _ in 0..<up { dir = dir.deletingLastPathComponent() }
            paths.append(dir.appendingPathComponent("training").path)
        }
        paths.append(binDir.deletingLastPathComponent().appendingPathComponent("share/toolrouter/training").path)
        return paths
    }

    /// The first candidate holding `trainer.py` and `requirements.txt`.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment,
                               executable: String = CommandLine.arguments[0],
                               workingDirectory: String = FileManager.default.currentDirectoryPath) throws(TrainerSetupError) -> String {
        let paths = candidates(environment: environment, executable: executable, workingDirectory: workingDirectory)
        for path in paths where isTrainerDir(path) { return path }
        throw TrainerSetupError("the trainer scripts (trainer.py, requirements.txt) were not found; set TOOLROUTER_TRAINER_DIR "
                                + "to the repository's training/ folder, or install with scripts/install. Looked in:\n  "
                                + paths.joined(separator: "\n  "))
    }

    static func isTrainerDir(_ path: String) -> Bool {
        ["trainer.py", "requirements.txt"].allSatisfy { FileManager.default.fileExists(atPath: path + "/" + $0) }
    }
}

/// A Python interpreter good enough to create the venv.
public enum PythonLocator {
    /// Names tried in order when `$TOOLROUTER_PYTHON` is not set.
    public static let names = ["python3", "python3.13", "python3.12", "python3.11", "python3.10"]

    /// The first interpreter that reports version ≥ 3.10 and can import `venv` and `ensurepip`.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrainerSetupError) -> String {
        let explicit = environment["TOOLROUTER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        var found: [String] = []
        for name in explicit.map({ [$0] }) ?? names {
            guard let result = try? Spawn.run(name, ["-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"]) else { continue }
            let version = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if result.status == 0, isSupported(version) { return name }
            found.append("\(name) (\(result.status == 0 ? version : "no venv/ensurepip module"))")
        }
        let seen = found.isEmpty ? "no python3 on PATH" : "found only " + found.joined(separator: ", ")
        throw TrainerSetupError("training needs Python ≥ 3.10 with its venv module (\(seen)). Install it (Debian/Ubuntu: "
                                + "apt install python3 python3-venv), or point TOOLROUTER_PYTHON at one.")
    }

    /// "3.11" → true; below 3.10 or unparsable → false.
    public static func isSupported(_ version: String) -> Bool {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return parts[0] > 3 || (parts[0] == 3 && parts[1] >= 10)
    }
}

/// toolrouter's own virtual environment for the trainer, keyed by the requirements file's hash.
public struct TrainerVenv: Sendable {
    /// The venv's folder.
    public let directory: String
    /// The requirements file installed into it.
    public let requirements: String

    /// The marker file recording which requirements the venv holds.
    public var markerPath: String { directory + "/.toolrouter-requirements.sha256" }
    /// The venv's interpreter.
    public var python: String { directory + "/bin/python" }

    /// A venv at `directory`, or at `${XDG_CACHE_HOME:-$HOME/.cache}/toolrouter/train-venv`.
    public init(directory: String?, requirements: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.directory = directory ?? Self.defaultDirectory(environment: environment)
        self.requirements = requirements
    }

    /// `${XDG_CACHE_HOME:-$HOME/.cache}/toolrouter/train-venv`.
    public static func defaultDirectory(environment: [String: String]) -> String {
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        return cache + "/toolrouter/train-venv"
    }

    /// What the venv holds compared with the requirements file.
    public enum State: Sendable, Equatable {
        /// Installed from these requirements.
        case ready
        /// No venv (or no interpreter in it).
        case missing
        /// Installed from other requirements (or the install did not finish).
        case stale
    }

    /// The venv's state for a requirements hash.
    public func state(requirementsHash: String) -> State {
        guard FileManager.default.isExecutableFile(atPath: python) else { return .missing }
        let marker = (try? String(contentsOfFile: markerPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return marker == requirementsHash ? .ready : .stale
    }

    /// The requirements file's SHA-256.
    public func requirementsHash() throws(TrainerSetupError) -> String {
        guard let data = FileManager.default.contents(atPath: requirements) else { throw TrainerSetupError("cannot read \(requirements)") }
        return ContentHash.sha256Hex(data)
    }

    /// The pinned packages of the requirements file (comments and blank lines dropped).
    public func packages() -> [String] {
        let text = (try? String(contentsOfFile: requirements, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// What an install fetches, for the message before it starts. The figures were measured on Debian 12
    /// with PyPI's torch wheel (which pulls the CUDA libraries): about 3 GB downloaded, 5.6 GB on disk.
    public func installNotice() -> String {
        "toolrouter train needs a Python environment for the torch trainer; installing it once into \(directory)\n"
            + "  packages: " + packages().joined(separator: " ") + "\n"
            + "  from PyPI: about 3 GB to download (PyPI's torch brings the CUDA libraries), about 5.6 GB on disk; "
            + "pip's cache is reused. Later runs reuse this environment until \(requirements) changes."
    }

    /// Creates or updates the venv when it is not `.ready`, with pip's output on stderr; `log` gets one-line notes.
    public func prepare(log: (String) -> Void) throws(TrainerSetupError) {
        let hash = try requirementsHash()
        let state = state(requirementsHash: hash)
        if state == .ready { return }
        log(installNotice())
        if state == .missing {
            let python = try PythonLocator.resolve()
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw TrainerSetupError("cannot create \(directory): \(error.localizedDescription)")
            }
            try runStep(python, ["-m", "venv", directory], what: "creating the venv")
        } else {
            log("the requirements changed since \(directory) was installed; updating it")
        }
        try? FileManager.default.removeItem(atPath: markerPath)   // an interrupted install stays stale
        try runStep(python, ["-m", "pip", "install", "--disable-pip-version-check", "-r", requirements], what: "pip install")
        do { try (hash + "\n").write(toFile: markerPath, atomically: true, encoding: .utf8) } catch {
            throw TrainerSetupError("cannot write \(markerPath): \(error.localizedDescription)")
        }
    }

    private func runStep(_ executable: String, _ arguments: [String], what: String) throws(TrainerSetupError) {
        let child: SpawnedChild
        do { child = try Spawn.start(executable, arguments, stdoutToStderr: true) } catch { throw TrainerSetupError("\(what): \(error)") }
        let status = child.wait()
        guard status == 0 else {
            throw TrainerSetupError("\(what) failed (exit \(status)): \(executable) \(arguments.joined(separator: " ")); "
                                    + "see its output above. Remove \(directory) to start over.")
        }
    }
}
