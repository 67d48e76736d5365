import Kernels
import LE4Data

/// Convolution (course section 5.7): K filters of C×R×R, padding p, stride s. The filters are the
/// rows of W. 3×3 filters with stride 1 and padding 1 run by Winograd (Winograd.swift) on inputs of
/// 8 or more channels and directly (DirectConv.swift) on inputs of at most 4, forward and both
/// gradients; every other shape by im2col and one GEMM per image, where im2col makes each output
/// pixel a column of `col`.
///
/// Options from airbench's recipe: `dirac` starts the first min(K, C) filters as the identity
/// (filter k passes channel k through its centre tap), so that a deep plain network starts close to
/// a shallower one (an implicit residual); `nobias` drops b where a BN follows and would cancel it.
public final class Conv2D: Layer {
    public let inChannels: Int, filters: Int, size: Int, stride: Int, pad: Int
    /// Whether the first min(K, C) filters started as the identity.
    public let dirac: Bool
    /// Whether b is a parameter; without it b stays 0 and is neither trained nor saved.
    public let hasBias: Bool
    /// W: [K, C·R·R], b: [K]
    public let W: Param, b: Param
    private var col = [Float]()      // [B, C·R·R, P], kept between forward and backward (im2col path)
    private var input = Tensor(zeros: [0])  // x, kept for the weight gradient (Winograd and direct paths)
    private var partialW = [Float]() // [threads, K, C·R·R]: per-thread dW, summed in a fixed order
    private var inputShape = [Int]()
    /// The output rows and columns that reach the loss, set by the last training forward pass: all,
    /// or under a fused 2×2 pool its even part, past which dy is zero (Winograd path).
    private var outputRead = Winograd.Region(height: 0, width: 0)
    /// The Winograd filters of inference, transformed and packed, kept while W is unchanged
    /// (Param.version): inference goes in slices of 100 images, and transforming them again for
    /// each slice took 3 % of a cifar-fast bench, packing them another 3.5 %.
    private var inferenceFilters: (version: Int, tile: Int, packed: [PackedB])?

    public init(inChannels: Int, filters: Int, size: Int, stride: Int, pad: Int,
                initializer: Initializer, rng: inout SeededRNG, dirac: Bool = false, bias: Bool = true) {
        self.inChannels = inChannels; self.filters = filters; self.size = size; self.stride = stride; self.pad = pad
        self.dirac = dirac; hasBias = bias
        let fanIn = inChannels * size * size
        // Every filter is drawn, the identity ones too, so the random numbers after this layer do
        // not depend on the option.
        var w = initializer.draw(count: filters * fanIn, fanIn: fanIn, fanOut: filters * size * size, rng: &rng)
        if dirac {
            // Row k of W is filter k, laid out [C, R, R]; its centre tap (R/2, R/2) on channel k is
            // 1, every other tap 0 (PyTorch's dirac_, whose centre for even R is R/2 as well).
            for k in 0 ..< min(filters, inChannels) {
                for i in 0 ..< fanIn { w[k * fanIn + i] = 0 }
                w[k * fanIn + (k * size + size / 2) * size + size / 2] = 1
            }
        }
        W = Param(name: "W", shape: [filters, fanIn], value: w, decays: true)
        b = Param(name: "b", shape: [filters], value: [Float](repeating: 0, count: filters), decays: false)
    }

    public var spec: String {
        var s = "conv\(filters)"
        if size != 3 { s += "x\(size)" }
        if stride != 1 { s += "s\(stride)" }
        if pad != size / 2 { s += "p\(pad)" }
        if dirac { s += ":dirac" }
        if !hasBias { s += ":nobias" }
        return s
    }
    public var params: [Param] { hasBias ? [W, b] : [W] }

    /// As direct convolution computes it, whatever algorithm runs: 2·K·C·R·R per output pixel.
    public func forwardFLOPs(input: [Int]) -> Double {
        let out = outputShape(input)
        return 2 * Double(filters * inChannels * size * size) * Double(out[1] * out[2])
    }

    /// Whether this layer runs by Winograd: 3×3, stride 1, padding 1 (the output has the input's
    /// size), and enough input channels for its GEMMs to be deep enough: with 8 (cifar-fast's conv
    /// after the 2×2 whitening, on digits), F(4×4) trained 1.2× faster than im2col; the first
    /// layer of 1 or 3 channels runs directly.
    public var usesWinograd: Bool { size == 3 && stride == 1 && pad == 1 && inChannels >= 8 }

    /// Whether this layer runs by the direct 3×3 kernel: 3×3, stride 1, padding 1 on an input of
    /// at most 4 channels (a first layer).
    public var usesDirect: Bool { size == 3 && stride == 1 && pad == 1 && inChannels <= DirectConv3x3.maxChannels }

    /// The Winograd tiles for an input of `height`×`width`: `Winograd.tile(height:width:)`.
    func winograd(height: Int, width: Int) -> Winograd {
        Winograd(tile: winogradTile ?? Winograd.requestedTile ?? Winograd.tile(height: height, width: width))
    }
    /// Forces one tile size (tests, measurements); nil chooses by image size.
    var winogradTile: Int? = nil

    /// Set by `Network` when a BN follows this layer. BN's output does not change when a constant
    /// is added to a channel, so the loss does not depend on the bias: its gradient is exactly zero
    /// and the pass over dy that sums it is skipped (3 % of a training step of mnist-small).
    var feedsBatchNorm = false

    public func outputShape(_ input: [Int]) -> [Int] {
        [filters, (input[1] + 2 * pad - size) / stride + 1, (input[2] + 2 * pad - size) / stride + 1]
    }

    // x: [B, C, H, W] → y: [B, K, OH, OW];  per image b: y_b[K, P] = W[K, CRR] · col_b[CRR, P] + bias
    // Images are independent, so the batch is split across threads, each running a single-threaded GEMM.
    // Training keeps every image's col for backward; inference reuses one col per thread.
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, training: training, epilogue: nil) }

    /// Inference of this convolution followed by `bn` (inference mode) and, if `relu`, a ReLU, in
    /// one pass: BN's per-channel scale and shift, and the ReLU, are applied to each image's GEMM
    /// output while it is still in cache, instead of as two more passes over the whole batch.
    public func forward(_ x: Tensor, then bn: BatchNorm, relu: Bool) -> Tensor {
        let (scale, shift) = bn.inferenceScaleShift
        return forward(x, training: false, epilogue: (scale, shift, relu))
    }

    /// This convolution and the 2×2 max pool after it as one step (`Network` fuses conv-pool where the
    /// convolution runs by Winograd): each image's output is pooled while its channels-last block is
    /// in cache, so the full-size output is neither written to memory nor read back, and on an odd
    /// map its last row and column, which no window takes, are not computed. In training `pool`
    /// records its maxima, and its backward runs as the layer's own. Outputs and maxima are the two
    /// layers', bit for bit, when the tile size is the same; on 13×13 maps the 12×12 that the pool
    /// reads take F(6×6) instead of F(5×5), which rounds differently.
    // x: [B, C, H, W] → y: [B, K, H/2, W/2]
    public func forward(_ x: Tensor, training: Bool, thenPool pool: MaxPool) -> Tensor {
        precondition(usesWinograd && pool.size == 2, "conv-pool fuses a Winograd convolution and a 2×2 pool")
        return forward(x, training: training, epilogue: nil, pool: pool)
    }

    /// The forward pass, with the inference epilogue of a BN (and ReLU) or, by Winograd, a 2×2 pool after it.
    private func forward(_ x: Tensor, training: Bool, epilogue: (scale: [Float], shift: [Float], relu: Bool)?,
                         pool: MaxPool? = nil) -> Tensor {
        inputShape = x.shape
        let (B, C, H, Wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(C == inChannels, "\(spec) expects \(inChannels) channels, got \(C)")
        let out = outputShape([C, H, Wd])
        let (K, OH, OW) = (out[0], out[1], out[2])
        if usesWinograd || usesDirect {
            input = training ? x : Tensor(zeros: [0])
            // y = scale·(W⊛x) + (scale·bias + shift), then ReLU: the bias joins BN's shift.
            let scale = epilogue?.scale, relu = epilogue?.relu ?? false
            let shift = epilogue.map { e in (0 ..< K).map { e.scale[$0] * b.value[$0] + e.shift[$0] } } ?? b.value
            guard usesWinograd else {
                return Tensor(uninitialized: [B, K, OH, OW]) { y in
                    DirectConv3x3.convolve(x.data, batch: B, inC: C, outC: K, height: H, width: Wd, filters: W.value,
                                           scale: scale, shift: shift, relu: relu, into: y.baseAddress!)
                }
            }
            // Under a pool, only the rows and columns its windows take are tiled, and by their count.
            let tiled = Winograd.Region(height: OH, width: OW, pooled: pool != nil)
            if training { outputRead = tiled }
            let engine = winograd(height: tiled.rows, width: tiled.columns)
            let packed = winogradFilters(engine, training: training)
            guard let pool else {
                return Tensor(uninitialized: [B, K, OH, OW]) { y in
                    engine.convolve(x.data, batch: B, inC: C, outC: K, height: H, width: Wd, packed: packed,
                                    scale: scale, shift: shift, relu: relu, into: y.baseAddress!)
                }
            }
            if training { pool.prepare(input: [B, K, OH, OW]) }
            return Tensor(uninitialized: [B, K, OH / 2, OW / 2]) { y in
                pool.argmax.withUnsafeMutableBufferPointer { argmax in
                    engine.convolve(x.data, batch: B, inC: C, outC: K, height: H, width: Wd, packed: packed,
                                    scale: nil, shift: shift, relu: false, into: y.baseAddress!, pool: true,
                                    argmax: training ? argmax.baseAddress : nil)
                }
            }
        }
        let P = OH * OW, CRR = C * size * size
        let chunks = Threads.chunks(B)
        var inferenceCol = [Float]()
        if training {
            if col.count != B * CRR * P { col = [Float](repeating: 0, count: B * CRR * P) }
        } else {
            // Lend the per-thread buffers to `col` for this call; the training col is kept for backward.
            // Left uninitialized: im2col writes every element.
            inferenceCol = uninitializedFloats(chunks * CRR * P)
            swap(&col, &inferenceCol)
        }
        defer { if !training { swap(&col, &inferenceCol) } }
        // The epilogue as the BN kernel's per-channel arguments: mean 0, 1/σ the scale, γ 1, and β
        // the bias joined to the shift.
        let normalization = epilogue.map { e in
            (mean: [Float](repeating: 0, count: K), scale: e.scale, gamma: [Float](repeating: 1, count: K),
             shift: (0 ..< K).map { e.scale[$0] * b.value[$0] + e.shift[$0] }, act: (e.relu ? BatchNorm.Activation.relu : .identity).code)
        }
        return Tensor(uninitialized: [B, K, OH, OW]) { y in
            x.data.withUnsafeBufferPointer { xp in
                col.withUnsafeMutableBufferPointer { cp in
                    W.value.withUnsafeBufferPointer { wp in
                        b.value.withUnsafeBufferPointer { bias in
                            Threads.parallelFor(B, chunks: chunks) { chunk, images in
                                for bi in images {
                                    let cb = cp.baseAddress! + (training ? bi : chunk) * CRR * P, yb = y.baseAddress! + bi * K * P
                                    im2col(xp.baseAddress! + bi * C * H * Wd, cb, C: C, H: H, W: Wd, OH: OH, OW: OW)
                                    guard let e = normalization else {
                                        for k in 0 ..< K { (yb + k * P).initialize(repeating: bias[k], count: P) }
                                        gemm(m: K, n: P, k: CRR, a: wp.baseAddress!, lda: CRR, b: cb, ldb: P, beta: 1, c: yb, ldc: P)
                                        continue
                                    }
                                    // y = scale·(W·col + bias) + shift, then max(y, 0)
                                    gemm(m: K, n: P, k: CRR, a: wp.baseAddress!, lda: CRR, b: cb, ldb: P, c: yb, ldc: P)
                                    ISA.active.kernels.bn_normalize(yb, K, P, e.mean, e.scale, e.gamma, e.shift, e.act, yb)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The transformed and packed filters of the forward pass: at inference, kept for the next call.
    private func winogradFilters(_ engine: Winograd, training: Bool) -> [PackedB] {
        if !training, let kept = inferenceFilters, kept.version == W.version, kept.tile == engine.tile { return kept.packed }
        let packed = engine.pack(engine.filters(W.value, outC: filters, inC: inChannels, flip: false), outC: filters, inC: inChannels)
        inferenceFilters = training ? nil : (W.version, engine.tile, packed)
        return packed
    }

    // dy: [B, K, OH, OW] → dx: [B, C, H, W];  dW = Σ_b dy_b·col_bᵀ, dcol_b = Wᵀ·dy_b, db = Σ dy
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let (B, C, H, Wd) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (K, OH, OW) = (dy.shape[1], dy.shape[2], dy.shape[3])
        let P = OH * OW
        b.grad.withUnsafeMutableBufferPointer { gb in
            dy.data.withUnsafeBufferPointer { d in
                for k in 0 ..< K {
                    var s: Float = 0
                    if hasBias && !feedsBatchNorm { for bi in 0 ..< B { s += sum(d.baseAddress! + (bi * K + k) * P, P) } }
                    gb[k] = s
                }
            }
        }
        if usesDirect {
            DirectConv3x3.filterGradient(input.data, dy.data, batch: B, inC: C, outC: K, height: H, width: Wd, into: &W.grad)
            guard needInputGrad else { return Tensor(zeros: [0]) }
            return Tensor(uninitialized: inputShape) { dx in
                DirectConv3x3.inputGradient(dy.data, batch: B, inC: C, outC: K, height: H, width: Wd, filters: W.value,
                                            into: dx.baseAddress!)
            }
        }
        guard usesWinograd else { return im2colBackward(dy, needInputGrad: needInputGrad) }
        // By Winograd: dW from the transformed input and output-gradient tiles of the output that
        // reached the loss; dx is the convolution of dy with the rotated filters, in and out swapped,
        // taken in turns by the threads as each finishes its share of dW: with dW alone, whichever
        // thread was slowed kept the other waiting.
        let gradient = winograd(height: outputRead.rows, width: outputRead.columns)
        guard needInputGrad else {
            gradient.filterGradient(input.data, dy.data, batch: B, inC: C, outC: K, height: H, width: Wd, tiled: outputRead,
                                    into: &W.grad)
            return Tensor(zeros: [0])
        }
        let engine = winograd(height: H, width: Wd)
        let packed = engine.pack(engine.filters(W.value, outC: K, inC: C, flip: true), outC: C, inC: K)
        return Tensor(uninitialized: inputShape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                let inputGradient = engine.convolution(d.baseAddress!, batch: B, inC: K, outC: C, height: H, width: Wd,
                                                       packed: packed, scale: nil, shift: nil, relu: false, into: dx.baseAddress!)
                gradient.filterGradient(input.data, d.baseAddress!, batch: B, inC: C, outC: K, height: H, width: Wd,
                                        tiled: outputRead, into: &W.grad, alongside: inputGradient)
            }
        }
    }

    private func im2colBackward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
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
                            Threads.sumChunks(pw, chunks: chunks, size: K * CRR)
                            W.grad.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: pw.baseAddress!, count: K * CRR) }
                        }
                    }
                }
            }
        }
        return dx
    }
}

extension Conv2D: SpecLayer {
    public static let grammar = """
      conv<K>[x<R>][s<S>][p<P>]  convolution: K filters R×R (default 3),
                                 stride S (default 1), padding P (default R/2)
    """
    public static let optionGrammar = """
      conv :dirac                the first min(K, C) filters start as identity
      conv :nobias               no bias
    """
    public static func names(_ name: String) -> Bool { name.hasPrefix("conv") }

    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        let (k, r, s, p) = try parse(t.name).orThrow(t.bad("expected conv<K>[x<R>][s<S>][p<P>]"))
        guard t.shape.count == 3 else { throw t.bad("convolution needs an image input, has \(t.shape)") }
        try t.reserve(weights: Double(t.shape[0]) * Double(r * r) * Double(k))
        // Padding could make room for a larger filter, but such a layer mostly multiplies zeros.
        guard t.shape[1] >= r, t.shape[2] >= r else { throw t.bad("filter \(r)×\(r) is larger than its input \(t.shape)") }
        return [Conv2D(inChannels: t.shape[0], filters: k, size: r, stride: s, pad: p ?? r / 2, initializer: t.initializer,
                       rng: &t.rng, dirac: t.flag("dirac"), bias: !t.flag("nobias"))]
    }

    /// K, R, S and P (nil: R/2) of a token `conv<K>[x<R>][s<S>][p<P>]`, or nil if it is not one.
    static func parse(_ tok: String) -> (Int, Int, Int, Int?)? {
        var rest = Substring(tok.dropFirst(4))
        func num() -> Int? {
            let d = rest.prefix(while: \.isNumber)
            rest = rest.dropFirst(d.count)
            return Int(d).flatMap { $0 <= 65536 ? $0 : nil }
        }
        guard let k = num(), k > 0 else { return nil }
        var r = 3, s = 1
        var p: Int?
        while let c = rest.first {
            rest = rest.dropFirst()
            guard let v = num() else { return nil }
            switch c {
            case "x": guard v > 0 else { return nil }; r = v
            case "s": guard v > 0 else { return nil }; s = v
            case "p": p = v
            default: return nil
            }
        }
        return (k, r, s, p)
    }
}
