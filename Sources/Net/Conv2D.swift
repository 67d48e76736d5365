import LE4Data

/// Convolution by im2col and one SGEMM (course section 5.7): K filters of C×R×R, padding p,
/// stride s. The filters are the rows of W; im2col makes each output pixel a column of `col`.
public final class Conv2D: Layer {
    public let inChannels: Int, filters: Int, size: Int, stride: Int, pad: Int
    /// W: [K, C·R·R], b: [K]
    public let W: Param, b: Param
    private var col = [Float]()      // [C·R·R, B·P], kept between forward and backward
    private var ym = [Float]()       // [K, B·P], reused scratch
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

    // x: [B, C, H, W] → y: [B, K, OH, OW];  Ym[K, B·P] = W[K, CRR] · col[CRR, B·P]
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let (B, C, H, Wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(C == inChannels, "\(spec) expects \(inChannels) channels, got \(C)")
        let out = outputShape([C, H, Wd])
        let (K, OH, OW) = (out[0], out[1], out[2])
        let P = OH * OW, CRR = C * size * size, BP = B * P
        if col.count != CRR * BP { col = [Float](repeating: 0, count: CRR * BP) }
        if ym.count != K * BP { ym = [Float](repeating: 0, count: K * BP) }
        x.data.withUnsafeBufferPointer { xp in
            col.withUnsafeMutableBufferPointer { cp in
                im2col(xp, cp, B: B, C: C, H: H, W: Wd, OH: OH, OW: OW)
            }
        }
        col.withUnsafeBufferPointer { cp in
            W.value.withUnsafeBufferPointer { wp in
                ym.withUnsafeMutableBufferPointer { yp in
                    gemm(m: K, n: BP, k: CRR, a: wp.baseAddress!, lda: CRR, b: cp.baseAddress!, ldb: BP,
                         c: yp.baseAddress!, ldc: BP)
                }
            }
        }
        // [K, B, P] → [B, K, P] with the bias added
        return Tensor(uninitialized: [B, K, OH, OW]) { y in
            ym.withUnsafeBufferPointer { yp in
                let bias = b.value
                Threads.parallelFor(B, minChunk: 4) { range in
                    for bi in range {
                        for k in 0 ..< K {
                            let src = k * BP + bi * P, dst = (bi * K + k) * P, bk = bias[k]
                            for p in 0 ..< P { y[dst + p] = yp[src + p] + bk }
                        }
                    }
                }
            }
        }
    }

    // dy: [B, K, OH, OW] → dx: [B, C, H, W];  dW = dYm·colᵀ, dcol = Wᵀ·dYm, db = row sums
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let (B, C, H, Wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (K, OH, OW) = (dy.shape[1], dy.shape[2], dy.shape[3])
        let P = OH * OW, CRR = C * size * size, BP = B * P
        dy.data.withUnsafeBufferPointer { d in
            ym.withUnsafeMutableBufferPointer { dym in
                Threads.parallelFor(K, minChunk: 4) { range in
                    for k in range {
                        for bi in 0 ..< B {
                            let src = (bi * K + k) * P, dst = k * BP + bi * P
                            for p in 0 ..< P { dym[dst + p] = d[src + p] }
                        }
                    }
                }
            }
        }
        ym.withUnsafeBufferPointer { dym in
            b.grad.withUnsafeMutableBufferPointer { db in
                for k in 0 ..< K {
                    var s: Float = 0
                    for i in 0 ..< BP { s += dym[k * BP + i] }
                    db[k] = s
                }
            }
            col.withUnsafeBufferPointer { cp in
                W.grad.withUnsafeMutableBufferPointer { gw in
                    gemm(transB: true, m: K, n: CRR, k: BP, a: dym.baseAddress!, lda: BP, b: cp.baseAddress!, ldb: BP,
                         c: gw.baseAddress!, ldc: CRR)
                }
            }
        }
        guard needInputGrad else { return Tensor(zeros: [0]) }
        // dcol overwrites col, which backward no longer needs.
        ym.withUnsafeBufferPointer { dym in
            W.value.withUnsafeBufferPointer { wp in
                col.withUnsafeMutableBufferPointer { cp in
                    gemm(transA: true, m: CRR, n: BP, k: K, a: wp.baseAddress!, lda: CRR, b: dym.baseAddress!, ldb: BP,
                         c: cp.baseAddress!, ldc: BP)
                }
            }
        }
        var dx = Tensor(zeros: inputShape)
        col.withUnsafeBufferPointer { cp in
            dx.data.withUnsafeMutableBufferPointer { dxp in
                col2im(cp, dxp, B: B, C: C, H: H, W: Wd, OH: OH, OW: OW)
            }
        }
        return dx
    }

    /// col[(c·R + i)·R + j, (b·OH + oh)·OW + ow] = x[b, c, oh·s − p + i, ow·s − p + j] (0 outside).
    func im2col(_ x: UnsafeBufferPointer<Float>, _ col: UnsafeMutableBufferPointer<Float>,
                B: Int, C: Int, H: Int, W: Int, OH: Int, OW: Int) {
        let R = size, s = stride, p = pad, BP = B * OH * OW
        Threads.parallelFor(C * R * R, minChunk: 2) { rows in
            for row in rows {
                let c = row / (R * R), i = (row / R) % R, j = row % R
                // Output columns whose input column is inside the image: ow in owLo..<owHi.
                let owLo = max(0, (p - j + s - 1) / s), owHi = min(OW, (W + p - j + s - 1) / s)
                for bi in 0 ..< B {
                    for oh in 0 ..< OH {
                        let dst = row * BP + (bi * OH + oh) * OW
                        let ih = oh * s - p + i
                        guard ih >= 0, ih < H, owLo < owHi else {
                            for ow in 0 ..< OW { col[dst + ow] = 0 }
                            continue
                        }
                        let src = (bi * C + c) * H * W + ih * W - p + j
                        for ow in 0 ..< owLo { col[dst + ow] = 0 }
                        if s == 1 {
                            for ow in owLo ..< owHi { col[dst + ow] = x[src + ow] }
                        } else {
                            for ow in owLo ..< owHi { col[dst + ow] = x[src + ow * s] }
                        }
                        for ow in owHi ..< OW { col[dst + ow] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col: every column entry is added back to the input pixel it came from.
    /// Parallel over input channels, so no two threads write the same pixel.
    func col2im(_ col: UnsafeBufferPointer<Float>, _ x: UnsafeMutableBufferPointer<Float>,
                B: Int, C: Int, H: Int, W: Int, OH: Int, OW: Int) {
        let R = size, s = stride, p = pad, BP = B * OH * OW
        Threads.parallelFor(C) { channels in
            for c in channels {
                for i in 0 ..< R {
                    for j in 0 ..< R {
                        let row = (c * R + i) * R + j
                        let owLo = max(0, (p - j + s - 1) / s), owHi = min(OW, (W + p - j + s - 1) / s)
                        guard owLo < owHi else { continue }
                        for bi in 0 ..< B {
                            for oh in 0 ..< OH {
                                let ih = oh * s - p + i
                                guard ih >= 0, ih < H else { continue }
                                let src = row * BP + (bi * OH + oh) * OW
                                let dst = (bi * C + c) * H * W + ih * W - p + j
                                if s == 1 {
                                    for ow in owLo ..< owHi { x[dst + ow] += col[src + ow] }
                                } else {
                                    for ow in owLo ..< owHi { x[dst + ow * s] += col[src + ow] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
