import XCTest
import LE4Data
@testable import Net

/// Every SGEMM micro-kernel this CPU can run, against a plain Double reference.
final class GemmTests: XCTestCase {
    /// op(A)·op(B) + beta·C in Double.
    func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int,
                   b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Double] {
        var out = c.map(Double.init)
        for i in 0 ..< m {
            for j in 0 ..< n {
                var s = 0.0
                for p in 0 ..< k {
                    s += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                out[i * ldc + j] = s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    /// Runs one product on every supported kernel; C has 3 spare columns (ldc = n + 3) that
    /// must stay untouched, and beta 0 must ignore C even where it holds NaN.
    func check(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, beta: Float,
               file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3
        let a = (0 ..< (transA ? k : m) * lda).map { _ in Float(rng.uniform(-0.5, 0.5)) }
        let b = (0 ..< (transB ? n : k) * ldb).map { _ in Float(rng.uniform(-0.5, 0.5)) }
        let c0 = (0 ..< m * ldc).map { i in beta == 0 && i % ldc < n ? Float.nan : Float(i % 7) }
        let want = reference(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                             beta: beta, c: c0, ldc: ldc)
        for isa in ISA.supported {
            var c = c0
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                             b: bp.baseAddress!, ldb: ldb, beta: beta, c: cp.baseAddress!, ldc: ldc, isa: isa)
                    }
                }
            }
            var worst = 0.0
            for i in 0 ..< m * ldc {
                if i % ldc >= n {
                    XCTAssertEqual(c[i], c0[i], "\(isa.name) wrote outside C at row \(i / ldc)", file: file, line: line)
                } else {
                    worst = max(worst, abs(Double(c[i]) - want[i]))
                }
            }
            XCTAssertLessThan(worst, 1e-5 * Double(max(k, 1)).squareRoot(),
                              "\(isa.name) \(m)×\(n)×\(k) transA \(transA) transB \(transB) beta \(beta)", file: file, line: line)
        }
    }

    func testEveryKernelMatchesReferenceForAllTransposesAndEdgeTiles() {
        // Sizes around the tile edges of every kernel (MR 4, 6, 12; NR 16, 32).
        for (m, n, k) in [(1, 1, 1), (5, 7, 3), (13, 33, 29), (24, 64, 17), (37, 53, 71)] {
            for transA in [false, true] {
                for transB in [false, true] { check(m: m, n: n, k: k, transA: transA, transB: transB, beta: 0) }
            }
        }
    }

    func testBetaOneAccumulatesAndOtherBetasScale() {
        check(m: 19, n: 40, k: 9, transA: false, transB: false, beta: 1)
        check(m: 19, n: 40, k: 9, transA: true, transB: true, beta: 0.5)
    }

    func testDepthAndWidthSpanningSeveralCacheBlocks() {
        // k beyond KC (256), in blocks of 200, and n beyond NC (4096): the packed blocks are
        // stitched correctly.
        check(m: 14, n: 20, k: 600, transA: false, transB: true, beta: 0)
        check(m: 30, n: 40, k: 600, transA: true, transB: false, beta: 0)  // A read in place
        check(m: 3, n: 4200, k: 5, transA: true, transB: false, beta: 1)
    }

    func testEmptyDepthGivesBetaTimesC() {
        check(m: 4, n: 5, k: 0, transA: false, transB: false, beta: 0)
        check(m: 4, n: 5, k: 0, transA: false, transB: false, beta: 0.5)
    }

    func testParallelGemmEqualsSingleThreadedBitForBit() {
        var rng = SeededRNG(seed: 7)
        let (m, n, k) = (70, 45, 33)
        let a = (0 ..< m * k).map { _ in Float(rng.uniform(0, 1)) }, b = (0 ..< k * n).map { _ in Float(rng.uniform(0, 1)) }
        var one = [Float](repeating: 0, count: m * n), many = one
        gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &one, ldc: n)
        parallelGemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &many, ldc: n)
        XCTAssertEqual(one, many)
    }

    func testOperandsReadInPlaceEqualPackedOperandsBitForBit() {
        // The same A and B stored with lines 80 floats apart (A read in place) and 300 apart (A
        // packed; B is always packed): every combination gives the same bits.
        var rng = SeededRNG(seed: 11)
        let (m, n, k) = (41, 70, 37)
        let aValues = (0 ..< m * k).map { _ in Float(rng.uniform(-1, 1)) }, bValues = (0 ..< k * n).map { _ in Float(rng.uniform(-1, 1)) }
        for isa in ISA.supported {
            for transA in [false, true] {
                var results: [[Float]] = []
                for (lda, ldb) in [(80, 80), (300, 80), (80, 300), (300, 300)] {
                    var a = [Float](repeating: .nan, count: (transA ? k : m) * lda), b = [Float](repeating: .nan, count: k * ldb)
                    for i in 0 ..< m { for p in 0 ..< k { a[transA ? p * lda + i : i * lda + p] = aValues[i * k + p] } }
                    for p in 0 ..< k { for j in 0 ..< n { b[p * ldb + j] = bValues[p * n + j] } }
                    var c = [Float](repeating: 0, count: m * n)
                    gemm(transA: transA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: n, isa: isa)
                    results.append(c)
                }
                for r in results.dropFirst() { XCTAssertEqual(r, results[0], "\(isa.name) transA \(transA)") }
            }
        }
    }

    func testPrepackedBEqualsPackingEachTimeBitForBit() {
        var rng = SeededRNG(seed: 9)
        // n beyond NC (4096) and k beyond KC (256): several packed blocks.
        for (m, n, k, transB) in [(13, 37, 29, false), (7, 50, 300, true), (5, 4100, 3, false)] {
            let a = (0 ..< m * k).map { _ in Float(rng.uniform(-1, 1)) }, b = (0 ..< k * n).map { _ in Float(rng.uniform(-1, 1)) }
            for isa in ISA.supported {
                var want = [Float](repeating: 0, count: m * n), got = want
                gemm(transB: transB, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: transB ? k : n, c: &want, ldc: n, isa: isa)
                let packed = PackedB(transB: transB, n: n, k: k, b: b, ldb: transB ? k : n, isa: isa)
                gemm(m: m, a: a, lda: k, b: packed, c: &got, ldc: n)
                XCTAssertEqual(got, want, "\(isa.name) \(m)×\(n)×\(k)")
            }
        }
    }
}
