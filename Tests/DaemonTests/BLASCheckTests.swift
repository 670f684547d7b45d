// The OpenBLAS kernels the daemon chooses are checked before serving: the normal path verifies, and
// kernels that fail the check (forced with TOOLROUTER_BLAS_PROBE_FAIL) are abandoned for the inherited
// setting, which is logged and shown in `health`.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

@Suite("BLAS kernel check (real binary)", .serialized)
struct BLASCheckTests {
    /// The `blas` member of `health`.
    static func blas(_ serve: ServeChild) throws -> JSONValue {
        let client = try serve.connect()
        let health = try rpc(client, "health")
        return try #require(health["result"]?["blas"], "no blas in health: \(health)")
    }

    @Test("kernels chosen by the policy that fail the check: re-executed with the inherited setting, logged, in health")
    func forcedMismatchFallsBack() throws {
        let serve = try ServeChild(environment: ["OPENBLAS_CORETYPE": "Haswell", "TOOLROUTER_OPENBLAS_CORETYPE": "SKYLAKEX",
                                                     "TOOLROUTER_BLAS_PROBE_FAIL": "1"], name: "blas-fail")
        defer { serve.child.stop() }
        let blas = try Self.blas(serve)
        #expect(blas["coretype"]?.stringValue == "Haswell", "\(blas)")
        #expect(blas["selected"]?.stringValue == "SKYLAKEX")
        #expect(blas["inherited"]?.stringValue == "Haswell")
        #expect(blas["fallback"]?.stringValue?.contains("TOOLROUTER_BLAS_PROBE_FAIL") == true, "\(blas)")
        #expect(blas["verified"] == .bool(true))   // the inherited kernels pass the check
        #expect(serve.child.output.contains("blas: fell back to the inherited kernels"), "\(serve.child.output)")
    }

    @Test("kernels that crash during the check do not kill the daemon: it re-executes with the inherited setting")
    func crashFallsBack() throws {
        let serve = try ServeChild(environment: ["OPENBLAS_CORETYPE": "Haswell", "TOOLROUTER_OPENBLAS_CORETYPE": "SKYLAKEX",
                                                     "TOOLROUTER_BLAS_PROBE_CRASH": "1"], name: "blas-crash")
        defer { serve.child.stop() }
        let blas = try Self.blas(serve)
        #expect(blas["coretype"]?.stringValue == "Haswell", "\(blas)")
        #expect(blas["fallback"]?.stringValue?.contains("crashed") == true, "\(blas)")
        #expect(blas["verified"] == .bool(true))
    }

    @Test("the normal path: the chosen kernels pass the check and are kept")
    func normalPathVerifies() throws {
        let serve = try ServeChild(environment: ["OPENBLAS_CORETYPE": "Haswell"], name: "blas-ok")
        defer { serve.child.stop() }
        let blas = try Self.blas(serve)
        #expect(blas["verified"] == .bool(true), "\(blas)")
        #expect(blas["fallback"] == .null)
        let avx512 = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy {
            ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").contains($0)
        }
        #expect(blas["coretype"]?.stringValue == (avx512 ? "SKYLAKEX" : "Haswell"), "\(blas)")
        #expect(serve.child.output.contains("blas: kernels verified"), "\(serve.child.output)")
    }
}
