import LE4Data

/// Convolution by im2col and one SGEMM (course section 5.7): K filters of C×R×R, padding p,
/// stride s. The filters are the rows of W; im2col makes each output pixel a column of `col`.
public final class Conv2D: Layer {
    public let inChannels: Int, filters: Int, size: Int, stride: Int, pad: Int
    /// W: [K, C·R·R], b: [K]
    public let W: Param, b: Param
    private var col = [Float]()      // [B, C·R·R, P], kept between forward and backward
    private var partialW = [Float]() // [threads, K, C·R·R]: per-thread dW, summed in a fixed order
    private var inputShape = [Int]()

    public init(inChannels: Int, filters: Int, size: Int, stride: Int, pad: Int,
                initializer: Initializer, rng: inout SeededRNG) {
        self.inChannels = inChannels; self.filters = filters; self.size = size; self.stride = stride; self.pad = pad
        let fanIn = inChannels * size * size
        W = Param(name: "W", shape: [filters, fanIn],
                  value: initializer.draw(count: filters * fanIn, fanIn: fanIn, fanOut: filters * size * size, rng: &rng),
                  decays: true)
        b = Param(name: "b", shape: [filters], value: [Float](repeating: 0, count: filters), decays: false)
    }

    public var spec: String {
        var s = "conv\(filters)"
        if size != 3 { s += "x\(size)" }
        if stride != 1 { s += "s\(stride)" }
        if pad != size / 2 { s += "p\(pad)" }
        return s
    }
    public var params: [Param] { [W, b] }

    public func outputShape(_ input: [Int]) -> [Int] {
        [filters, (input[1] + 2 * pad - size) / stride + 1, (input[2] + 2 * pad - size) / stride + 1]
    }

    // x: [B, C, H, W] → y: [B, K, OH, OW];  per image b: y_b[K, P] = W[K, CRR] · col_b[CRR, P] + bias
    // Images are independent, so the batch is split across threads, each running single-threaded BLAS.
    // Training keeps every image's col for backward; inference reuses one col per thread.
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, training: training, epilogue: nil) }

    /// Inference of this convolution followed by `bn` (inference mode) and, if `relu`, a ReLU, in
    /// one pass: BN's per-channel scale and shift, and the ReLU, are applied to each image's GEMM
    /// output while it is still in cache, instead of as two more passes over the whole batch.
    public func forward(_ x: Tensor, then bn: BatchNorm, relu: Bool) -> Tensor {
        let (scale, shift) = bn.inferenceScaleShift
        return forward(x, training: false, epilogue: (scale, shift, relu))
    }

    private func forward(_ x: Tensor, training: Bool, epilogue: (scale: [Float], shift: [Float], relu: Bool)?) -> Tensor {
        inputShape = x.shape
        let (B, C, H, Wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(C == inChannels, "\(spec) expects \(inChannels) channels, got \(C)")
        let out = outputShape([C, H, Wd])
        let (K, OH, OW) = (out[0], out[1], out[2])
        let P = OH * OW, CRR = C * size * size
        let chunks = Threads.chunks(B)
        var inferenceCol = [Float]()
        if training {
            if col.count != B * CRR * P { col = [Float](repeating: 0, count: B * CRR * P) }
        } else {
            // Lend the per-thread buffers to `col` for this call; the training col is kept for backward.
            // Left uninitialized: im2col writes every element.
            inferenceCol = [Float](unsafeUninitializedCapacity: chunks * CRR * P) { _, n in n = chunks * CRR * P }
            swap(&col, &inferenceCol)
        }
        defer { if !training { swap(&col, &inferenceCol) } }
        return Tensor(uninitialized: [B, K, OH, OW]) { y in
            x.data.withUnsafeBufferPointer { xp in
                col.withUnsafeMutableBufferPointer { cp in
                    W.value.withUnsafeBufferPointer { wp in
                        b.value.withUnsafeBufferPointer { bias in
                            Threads.parallelFor(B, chunks: chunks) { chunk, images in
                                for bi in images {
                                    let cb = cp.baseAddress! + (training ? bi : chunk) * CRR * P, yb = y.baseAddress! + bi * K * P
                                    im2col(xp.baseAddress! + bi * C * H * Wd, cb, C: C, H: H, W: Wd, OH: OH, OW: OW)
                                    guard let (scale, shift, relu) = epilogue else {
                                        for k in 0 ..< K { (yb + k * P).initialize(repeating: bias[k], count: P) }
                                        gemm(m: K, n: P, k: CRR, a: wp.baseAddress!, lda: CRR, b: cb, ldb: P, beta: 1, c: yb, ldc: P)
                                        continue
                                    }
                                    // y = scale·(W·col + bias) + shift, then max(y, 0)
                                    gemm(m: K, n: P, k: CRR, a: wp.baseAddress!, lda: CRR, b: cb, ldb: P, c: yb, ldc: P)
                                    for k in 0 ..< K { affine(yb + k * P, scale[k], nil, 0, scale[k] * bias[k] + shift[k], into: yb + k * P, P) }
                                    if relu { ReLU.zeroWhereNotPositive(yb, of: yb, into: yb, count: K * P) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // dy: [B, K, OH, OW] → dx: [B, C, H, W];  dW = Σ_b dy_b·col_bᵀ, dcol_b = Wᵀ·dy_b, db = Σ dy
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let (B, C, H, Wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (K, OH, OW) = (dy.shape[1], dy.shape[2], dy.shape[3])
        let P = OH * OW, CRR = C * size * size
        let chunks = Threads.chunks(B)
        if partialW.count != chunks * K * CRR { partialW = [Float](repeating: 0, count: chunks * K * CRR) }
        var dx = needInputGrad ? Tensor(zeros: inputShape) : Tensor(zeros: [0])
        dy.data.withUnsafeBufferPointer { d in
            col.withUnsafeMutableBufferPointer { cp in
                W.value.withUnsafeBufferPointer { wp in
                    partialW.withUnsafeMutableBufferPointer { pw in
                        dx.data.withUnsafeMutableBufferPointer { dxp in
                            Threads.parallelFor(B, chunks: chunks) { chunk, images in
                                let gw = pw.baseAddress! + chunk * K * CRR
                                for (n, bi) in images.enumerated() {
                                    let cb = cp.baseAddress! + bi * CRR * P, db = d.baseAddress! + bi * K * P
                                    gemm(transB: true, m: K, n: CRR, k: P, a: db, lda: P, b: cb, ldb: P,
                                         beta: n == 0 ? 0 : 1, c: gw, ldc: CRR)
                                    guard needInputGrad else { continue }
                                    // dcol_b overwrites col_b, which is no longer needed.
                                    gemm(transA: true, m: CRR, n: P, k: K, a: wp.baseAddress!, lda: CRR, b: db, ldb: P, c: cb, ldc: P)
                                    col2im(UnsafePointer(cb), dxp.baseAddress! + bi * C * H * Wd, C: C, H: H, W: Wd, OH: OH, OW: OW)
                                }
                            }
                            W.grad.withUnsafeMutableBufferPointer { g in
                                for i in 0 ..< K * CRR { g[i] = pw[i] }
                                for c in 1 ..< chunks { for i in 0 ..< K * CRR { g[i] += pw[c * K * CRR + i] } }
                            }
                        }
                    }
                }
            }
            b.grad.withUnsafeMutableBufferPointer { gb in
                for k in 0 ..< K {
                    var s: Float = 0
                    for bi in 0 ..< B { s += sum(d.baseAddress! + (bi * K + k) * P, P) }
                    gb[k] = s
                }
            }
        }
        return dx
    }

    /// The output columns ow whose input column ow·s − p + j lies inside the image: owLo..<owHi.
    @inline(__always)
    func insideColumns(_ j: Int, W: Int, OW: Int) -> (Int, Int) {
        let s = stride, p = pad
        let lo = min(OW, max(0, (p - j + s - 1) / s))
        return (lo, max(lo, min(OW, (W + p - j + s - 1) / s)))
    }

    /// One image: col[(c·R + i)·R + j, oh·OW + ow] = x[c, oh·s − p + i, ow·s − p + j] (0 outside).
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, C: Int, H: Int, W: Int, OH: Int, OW: Int) {
        let R = size, s = stride, p = pad, P = OH * OW
        for row in 0 ..< C * R * R {
            let c = row / (R * R), i = (row / R) % R, j = row % R
            let (owLo, owHi) = insideColumns(j, W: W, OW: OW)
            for oh in 0 ..< OH {
                let dst = col + row * P + oh * OW
                let ih = oh * s - p + i
                guard ih >= 0, ih < H else { dst.initialize(repeating: 0, count: OW); continue }
                let src = x + c * H * W + ih * W - p + j
                dst.initialize(repeating: 0, count: owLo)
                if s == 1 {
                    copyRow(src + owLo, to: dst + owLo, count: owHi - owLo)
                } else {
                    for ow in owLo ..< owHi { dst[ow] = src[ow * s] }
                }
                (dst + owHi).initialize(repeating: 0, count: OW - owHi)
            }
        }
    }

    /// dst[0..<n] = src[0..<n] for the short rows of im2col, where a memmove call per row
    /// cost more than the copy: SIMD8 blocks, the last one overlapping instead of a tail.
    @inline(__always)
    func copyRow(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) {
        let rs = UnsafeRawPointer(src), rd = UnsafeMutableRawPointer(dst)
        guard n >= 8 else {
            for i in 0 ..< n { dst[i] = src[i] }
            return
        }
        var i = 0
        while true {
            rd.storeBytes(of: rs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self)
            if i + 8 == n { return }
            i = min(i + 8, n - 8)
        }
    }

    /// One image, the adjoint of im2col: every column entry is added back to the pixel it came from.
    func col2im(_ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, C: Int, H: Int, W: Int, OH: Int, OW: Int) {
        let R = size, s = stride, p = pad, P = OH * OW
        for row in 0 ..< C * R * R {
            let c = row / (R * R), i = (row / R) % R, j = row % R
            let (owLo, owHi) = insideColumns(j, W: W, OW: OW)
            for oh in 0 ..< OH {
                let ih = oh * s - p + i
                guard ih >= 0, ih < H else { continue }
                let src = col + row * P + oh * OW
                let dst = x + c * H * W + ih * W - p + j
                if s == 1 {
                    for ow in owLo ..< owHi { dst[ow] += src[ow] }
                } else {
                    for ow in owLo ..< owHi { dst[ow * s] += src[ow] }
                }
            }
        }
    }
}
