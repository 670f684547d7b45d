// A correctness check of the BLAS kernels OpenBLAS picked, on the sgemm calls this engine makes.
//
// Why: the daemon may ask OpenBLAS for faster kernels (SkylakeX, AVX-512) than the machine's own
// setting, and some OpenBLAS builds compute wrong results (or crash) with those kernels on some
// processors. So before serving, each sgemm form the engine uses — prefill's X·Wᵀ on the model's
// shapes, with a strided output, and LoRA's two products and merge — is run on seeded data and compared
// with a float64 loop.

import COpenBLAS

/// The result of checking sgemm against a float64 reference.
public struct BLASProbe: Sendable, Equatable {
    /// One sgemm call shape: C[m, n] = alpha · op(A) · op(B) + beta · C, row-major.
    struct Shape {
        let transA: Bool, transB: Bool
        let m: Int, n: Int, k: Int
        let alpha: Float, beta: Float
        let ldc: Int
    }

    /// Shapes the engine uses (SmolLM2-135M: dim 576, FFN 1536, LoRA rank 8), sized to run in well
    /// under a second together, with odd row counts so edge tiles are exercised.
    static let shapes: [Shape] = [
        Shape(transA: false, transB: true, m: 37, n: 576, k: 576, alpha: 1, beta: 0, ldc: 576),        // q/o projection
        Shape(transA: false, transB: true, m: 45, n: 1536, k: 576, alpha: 1, beta: 0, ldc: 1536),      // FFN up/gate
        Shape(transA: false, transB: true, m: 45, n: 576, k: 1536, alpha: 1, beta: 0, ldc: 576),       // FFN down
        Shape(transA: false, transB: true, m: 17, n: 200, k: 576, alpha: 1, beta: 0, ldc: 576),        // one lane's rows, strided output
        Shape(transA: false, transB: true, m: 33, n: 8, k: 576, alpha: 0.5, beta: 0, ldc: 8),          // LoRA T = s·X·Aᵀ
        Shape(transA: false, transB: false, m: 33, n: 576, k: 8, alpha: 1, beta: 1, ldc: 576),         // LoRA Y += T·Bᵀ
        Shape(transA: true, transB: false, m: 576, n: 576, k: 8, alpha: 1, beta: 0, ldc: 576),         // LoRA merge
    ]

    /// The largest error seen, relative to the sum of absolute products of the element (0 when exact).
    public let maxRelativeError: Double
    /// Shapes checked.
    public let shapesChecked: Int
    /// The first shape that disagreed, described (nil when all agreed).
    public let failure: String?

    /// True when every shape agreed with the reference within float32 rounding.
    public var passed: Bool { failure == nil }

    /// Relative error above which a result is wrong: float32 sums of up to 1536 products stay far below (wrong kernels give errors near 1).
    public static let tolerance = 1e-3

    /// Runs every shape through `cblas_sgemm` and compares each element with a float64 computation.
    public static func run() -> BLASProbe {
        var generator: UInt64 = 0x5EED_B1A5
        func next() -> Float {
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: generator >> 11) % 2001 - 1000) / 1000
        }
        var worst = 0.0
        for shape in shapes {
            let (rowsA, colsA) = shape.transA ? (shape.k, shape.m) : (shape.m, shape.k)
            let (rowsB, colsB) = shape.transB ? (shape.n, shape.k) : (shape.k, shape.n)
            let a = (0..<(rowsA * colsA)).map { _ in next() }
            let b = (0..<(rowsB * colsB)).map { _ in next() }
            let c0 = (0..<(shape.m * shape.ldc)).map { _ in next() }
            var c = c0
            cblas_sgemm(CblasRowMajor, shape.transA ? CblasTrans : CblasNoTrans, shape.transB ? CblasTrans : CblasNoTrans,
                        Int32(shape.m), Int32(shape.n), Int32(shape.k), shape.alpha, a, Int32(colsA), b, Int32(colsB),
                        shape.beta, &c, Int32(shape.ldc))
            // The reference reads op(A) by rows and op(B) by columns, both laid out contiguously in float64
            // first, so its inner loop is a plain dot product (it runs in tens of milliseconds, not hundreds).
            let rows = (0..<shape.m).map { i in (0..<shape.k).map { p in Double(shape.transA ? a[p * colsA + i] : a[i * colsA + p]) } }
            let columns = (0..<shape.n).map { j in (0..<shape.k).map { p in Double(shape.transB ? b[j * colsB + p] : b[p * colsB + j]) } }
            for i in 0..<shape.m {
                for j in 0..<shape.ldc {
                    let got = Double(c[i * shape.ldc + j])
                    guard j < shape.n else {
                        // Columns past n belong to someone else: sgemm must not touch them.
                        if got != Double(c0[i * shape.ldc + j]) {
                            return BLASProbe(maxRelativeError: .infinity, shapesChecked: shapes.count, failure: "\(shape) wrote outside its columns")
                        }
                        continue
                    }
                    let (sum, magnitude) = Self.dot(rows[i], columns[j])
                    let before = Double(c0[i * shape.ldc + j])
                    let expected = Double(shape.alpha) * sum + Double(shape.beta) * before
                    let scale = abs(Double(shape.alpha)) * magnitude + abs(Double(shape.beta) * before) + 1e-6
                    let error = abs(got - expected) / scale
                    worst = max(worst, error.isNaN ? .infinity : error)
                    if !(error <= tolerance) {
                        return BLASProbe(maxRelativeError: worst, shapesChecked: shapes.count,
                                         failure: "sgemm \(shape.transA ? "T" : "N")\(shape.transB ? "T" : "N") m=\(shape.m) n=\(shape.n) k=\(shape.k): "
                                             + "C[\(i),\(j)] = \(got), expected \(expected)")
                    }
                }
            }
        }
        return BLASProbe(maxRelativeError: worst, shapesChecked: shapes.count, failure: nil)
    }

    /// Σ x·y and Σ |x·y| in float64.
    private static func dot(_ x: [Double], _ y: [Double]) -> (sum: Double, magnitude: Double) {
        // Eight lanes (the order of a float64 sum barely matters at this tolerance): the check is the whole
        // of the daemon's start-up before the model loads, and a scalar loop made it ~90 ms.
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                let n = min(x.count, y.count)
                var sum = SIMD8<Double>(), magnitude = SIMD8<Double>()
                var p = 0
                while p + 8 <= n, let xs = x.baseAddress, let ys = y.baseAddress {
                    let product = UnsafeRawPointer(xs + p).loadUnaligned(as: SIMD8<Double>.self)
                        * UnsafeRawPointer(ys + p).loadUnaligned(as: SIMD8<Double>.self)
                    sum += product
                    magnitude += product.replacing(with: -product, where: product .< 0)
                    p += 8
                }
                var tailSum = 0.0, tailMagnitude = 0.0
                while p < n {
                    let product = x[p] * y[p]
                    tailSum += product
                    tailMagnitude += abs(product)
                    p += 1
                }
                return (sum.sum() + tailSum, magnitude.sum() + tailMagnitude)
            }
        }
    }
}
