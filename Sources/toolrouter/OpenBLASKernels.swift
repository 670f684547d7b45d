// Choosing OpenBLAS's kernels before the library initialises.

import Foundation

/// Debian's OpenBLAS (0.3.21, built for every x86 core type) files AMD's AVX-512 cores (Zen 4) under
/// "Zen" and uses its AVX2 Haswell kernels; machines of this project's kind also export
/// `OPENBLAS_CORETYPE=Haswell` to every process. The SkylakeX kernels (AVX-512) run this engine's
/// prefill about 1.7x faster on such a CPU (see BENCHMARKS.md). OpenBLAS reads `OPENBLAS_CORETYPE`
/// once, when the library loads — before `main` — so choosing means setting it and re-executing.
///
/// Policy: `TOOLROUTER_OPENBLAS_CORETYPE=NAME` forces a core type, `=inherit` keeps whatever the
/// environment says; unset, the engine asks for SKYLAKEX when the CPU has the AVX-512 subsets
/// those kernels use, and leaves OpenBLAS alone otherwise.
enum OpenBLASKernels {
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
        setenv("OPENBLAS_CORETYPE", wanted, 1)
        setenv("TOOLROUTER_REEXECUTED", "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: it failed. Carry on with the kernels OpenBLAS already chose.
    }

    /// True when /proc/cpuinfo lists avx512f, avx512bw, avx512dq, avx512vl and avx512cd.
    static func cpuHasAVX512ForSkylakeX() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains)
    }
}
