// Choosing OpenBLAS's kernels before the library initialises, and proving the choice before serving.

import Foundation
import Inference
import JSON

/// Debian's OpenBLAS (0.3.21, built for every x86 core type) files AMD's AVX-512 cores (Zen 4) under
/// "Zen" and uses its AVX2 Haswell kernels; machines of this project's kind also export
/// `OPENBLAS_CORETYPE` to every process, because some OpenBLAS builds compute wrong results or crash
/// with the AVX-512 kernels on some processors. The SkylakeX kernels (AVX-512) run this engine's
/// prefill about 1.7x faster on a CPU where they work (see BENCHMARKS.md). OpenBLAS reads
/// `OPENBLAS_CORETYPE` once, when the library loads — before `main` — so choosing means setting it
/// and re-executing.
///
/// Policy: `TOOLROUTER_OPENBLAS_CORETYPE=NAME` forces a core type, `=inherit` keeps whatever the
/// environment says; unset, the engine asks for SKYLAKEX when the CPU has the AVX-512 subsets
/// those kernels use, and leaves OpenBLAS alone otherwise.
///
/// Proof: `serve` checks the kernels it runs on with `BLASProbe` (every sgemm form the engine uses,
/// against a float64 loop) before loading anything. When the kernels were chosen by this policy and
/// disagree — or crash: a crash signal during the check re-executes too — the process re-executes
/// once more with the inherited setting (unset if it was unset), logs why, and `health` shows it
/// (`"blas": {"coretype", "selected", "inherited", "verified", "fallback"}`).
/// `TOOLROUTER_BLAS_PROBE_FAIL=1` makes the check of chosen kernels fail, and `TOOLROUTER_BLAS_PROBE_CRASH=1`
/// makes it crash (SIGILL), for tests.
enum OpenBLASKernels {
    /// Set on re-execution: the inherited `OPENBLAS_CORETYPE` ("" when it was unset).
    static let inheritedKey = "TOOLROUTER_INHERITED_CORETYPE"
    /// Set on the fallback re-execution: why the chosen kernels were abandoned.
    static let fallbackKey = "TOOLROUTER_BLAS_FALLBACK"
    /// Set on the first re-execution: the core type the policy chose.
    static let selectedKey = "TOOLROUTER_SELECTED_CORETYPE"

    /// Applies the policy above; re-executes this program (same arguments) at most once.
    static func selectBeforeStart() {
        let environment = ProcessInfo.processInfo.environment
        let wanted: String
        switch environment["TOOLROUTER_OPENBLAS_CORETYPE"] {
        case "inherit"?: return
        case let name? where !name.isEmpty: wanted = name
        default:
            guard cpuHasAVX512ForSkylakeX() else { return }
            wanted = "SKYLAKEX"
        }
        guard environment["OPENBLAS_CORETYPE"]?.uppercased() != wanted.uppercased(),
              environment["TOOLROUTER_REEXECUTED"] == nil else { return }
        setenv(inheritedKey, environment["OPENBLAS_CORETYPE"] ?? "", 1)
        setenv(selectedKey, wanted, 1)
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        setenv("TOOLROUTER_REEXECUTED", "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: it failed. Carry on with the kernels OpenBLAS already chose.
        unsetenv(selectedKey)
    }

    /// What the kernels in use are and whether they passed the check (for the log and `health`).
    struct Status {
        let coretype: String?
        let selected: String?
        let inherited: String?
        let probe: BLASProbe
        let fallback: String?
        /// How long the check took.
        let milliseconds: Double

        var json: JSONValue {
            func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
            return .object([("coretype", string(coretype)), ("selected", string(selected)), ("inherited", string(inherited)),
                            ("verified", .bool(probe.passed)), ("max_relative_error", .number(JSONNumber(literal: String(format: "%.3g", probe.maxRelativeError.isFinite ? probe.maxRelativeError : 1e308)))),
                            ("fallback", string(fallback))])
        }
    }

    /// Checks the kernels in use before serving. If this policy chose them (this process is the
    /// re-execution) and they disagree with the reference or crash, re-executes with the inherited
    /// setting; otherwise returns what was found.
    static func verifyBeforeServing() -> Status {
        let environment = ProcessInfo.processInfo.environment
        let selected = environment[selectedKey]
        let inherited = environment[inheritedKey].flatMap { $0.isEmpty ? nil : $0 }
        let fallback = environment[fallbackKey]
        let chosenHere = selected != nil && fallback == nil
        let start = Date()
        if chosenHere {
            armCrashFallback(inherited: inherited)
            if environment["TOOLROUTER_BLAS_PROBE_CRASH"] == "1" { raise(SIGILL) }
        }
        let probe = BLASProbe.run()
        if chosenHere { disarmCrashFallback() }
        let milliseconds = Date().timeIntervalSince(start) * 1000
        if chosenHere {
            var reason: String?
            if environment["TOOLROUTER_BLAS_PROBE_FAIL"] == "1" {
                reason = "the \(selected ?? "") kernels failed the check (forced by TOOLROUTER_BLAS_PROBE_FAIL)"
            } else if let failure = probe.failure {
                reason = "the \(selected ?? "") kernels disagree with the reference: \(failure)"
            }
            if let reason { reexecute(inherited: inherited, reason: reason) }
        }
        return Status(coretype: environment["OPENBLAS_CORETYPE"], selected: selected, inherited: inherited, probe: probe,
                      fallback: fallback, milliseconds: milliseconds)
    }

    /// Re-executes with `OPENBLAS_CORETYPE` back at the inherited value (unset if there was none).
    private static func reexecute(inherited: String?, reason: String) {
        if let inherited { setenv("OPENBLAS_CORETYPE", inherited, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        setenv(fallbackKey, reason, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv failed: serve on what we have; `health` shows the failed check.
    }

    /// argv and envp for the crash fallback, built before the check (a signal handler cannot allocate).
    nonisolated(unsafe) private static var crashArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    nonisolated(unsafe) private static var crashEnvp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    private static let crashSignals = [SIGILL, SIGSEGV, SIGBUS, SIGFPE]

    /// Makes a crash in the check re-execute with the inherited setting instead of killing the process.
    private static func armCrashFallback(inherited: String?) {
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = inherited
        environment[fallbackKey] = "the \(environment[selectedKey] ?? "") kernels crashed during the check"
        crashArgv = cArray(CommandLine.arguments)
        crashEnvp = cArray(environment.map { "\($0.key)=\($0.value)" })
        for signal in crashSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                if let argv = OpenBLASKernels.crashArgv, let envp = OpenBLASKernels.crashEnvp { _ = execve("/proc/self/exe", argv, envp) }
                _exit(70)
            }
            action.sa_flags = Int32(SA_NODEFER)
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// Restores the default action of the crash signals.
    private static func disarmCrashFallback() {
        for signal in crashSignals { Foundation.signal(signal, SIG_DFL) }
    }

    /// A NULL-terminated C array of copies of `strings` (kept for the life of the process).
    private static func cArray(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { array[index] = strdup(string) }
        array[strings.count] = nil
        return array
    }

    /// True when /proc/cpuinfo lists avx512f, avx512bw, avx512dq, avx512vl and avx512cd.
    static func cpuHasAVX512ForSkylakeX() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains)
    }
}
