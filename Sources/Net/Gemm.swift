import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// C = op(A)·op(B) + beta·C for row-major matrices, on the calling thread (Kernels/gemm.c).
/// A is M×K (or K×M when transposed), B is K×N (or N×K), C is M×N; beta 0 never reads C.
@inline(__always)
public func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, isa: ISA = .active) {
    isa.kernels.sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

/// `gemm` with the rows of C split across `Threads`.
public func parallelGemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, isa: ISA = .active) {
    Threads.parallelFor(m, minChunk: 8) { rows in
        // Row r of op(A) starts at A[r, 0], or at A[0, r] when A is stored transposed.
        let aRow = transA ? rows.lowerBound : rows.lowerBound * lda
        gemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, a: a + aRow, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc, isa: isa)
    }
}

/// op(B) packed once into the layout the micro-kernels read, for several products with the same
/// B (the Winograd filters, used by every group of images).
public struct PackedB {
    let data: [Float]
    /// Columns and depth of op(B), and the kernels it was packed for.
    public let n: Int, k: Int, isa: ISA

    /// Packs op(B), K×N (B is N×K when `transB`).
    public init(transB: Bool = false, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, isa: ISA = .active) {
        self.n = n; self.k = k; self.isa = isa
        let size = isa.kernels.sgemm_packed_b_size(n, k)
        data = [Float](unsafeUninitializedCapacity: size) { p, count in
            isa.kernels.sgemm_pack_b(transB ? 1 : 0, n, k, b, ldb, p.baseAddress!)
            count = size
        }
    }
}

/// C = op(A)·B + beta·C with B prepacked, on the calling thread; A is M×K (K×M when transposed).
@inline(__always)
public func gemm(transA: Bool = false, m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedB,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    b.isa.kernels.sgemm_prepacked(transA ? 1 : 0, m, b.n, b.k, a, lda, b.data, beta, c, ldc)
}
