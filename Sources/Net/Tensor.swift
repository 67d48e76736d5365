import CMalloc
import COpenBLAS
import Dispatch

/// A dense Float tensor: a shape and its elements in row-major (C) order.
public struct Tensor: Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor data does not match its shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose elements the caller fills completely (saves zeroing large buffers).
    public init(uninitialized shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        data = [Float](unsafeUninitializedCapacity: n) { buf, count in
            fill(buf)
            count = n
        }
    }

    public var count: Int { data.count }
    /// Batch size: the first dimension.
    public var batch: Int { shape[0] }
    /// Elements per batch item.
    public var itemSize: Int { shape.dropFirst().reduce(1, *) }
}

/// C = alpha · op(A) · op(B) + beta · C for row-major matrices, through OpenBLAS.
/// A is M×K (or K×M when transposed), B is K×N (or N×K), C is M×N.
@inline(__always)
func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

/// `gemm` with the rows of C split across threads (each call single-threaded BLAS).
func parallelGemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    Threads.parallelFor(m, minChunk: 8) { rows in
        // Row r of op(A) starts at A[r, 0], or at A[0, r] when A is stored transposed.
        let aRow = transA ? rows.lowerBound : rows.lowerBound * lda
        gemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, a: a + aRow, lda: lda, b: b, ldb: ldb,
             beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
    }
}

/// Threads used for the loops le4nn parallelises itself (BLAS has its own pool).
public enum Threads {
    /// Number of worker threads, from `LE4NN_THREADS` or the machine's core count.
    public static let count: Int = {
        if let s = getenv("LE4NN_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// How many chunks `parallelFor` splits `n` items into.
    public static func chunks(_ n: Int, minChunk: Int = 1) -> Int { min(count, max(1, n / max(1, minChunk))) }

    /// Runs `body(range)` for index ranges that split 0..<n, in parallel.
    /// Each index is handled the same way in any chunk, so results do not depend on the thread count.
    public static func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        parallelFor(n, chunks: chunks(n, minChunk: minChunk)) { _, r in body(r) }
    }

    /// Runs `body(chunk, range)` for `chunks` contiguous ranges that split 0..<n, in parallel.
    public static func parallelFor(_ n: Int, chunks: Int, _ body: (Int, Range<Int>) -> Void) {
        if chunks <= 1 { body(0, 0 ..< n); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, n * c / chunks ..< n * (c + 1) / chunks)
        }
    }

    /// Makes BLAS single-threaded (le4nn splits batches across threads itself: two thread pools
    /// spinning on two cores slow each other down) and makes malloc serve large buffers from the
    /// heap and keep them when freed, so each minibatch does not map and fault in fresh pages.
    /// Call once at program start. If malloc refuses a setting, training is only slower.
    public static func configure() {
        openblas_set_num_threads(1)
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}

#if canImport(Glibc)
import Glibc
#endif
