import Foundation

/// Batch normalization (course formulas 28–38): per feature for affine outputs [B, M], per
/// channel for convolution outputs [B, C, H, W]. Training uses the batch's mean and variance
/// and updates running estimates; inference uses the running estimates (formula 38).
///
/// Two options (spec `bn:noscale:momentum=0.4`) serve airbench's recipe: without scale weights
/// γ stays 1 and only β is trained (BN followed by GELU, whose scale the next convolution absorbs);
/// and the running estimates may follow the batches faster than the default.
public final class BatchNorm: Layer {
    public let channels: Int
    public let epsilon: Float = 1e-5
    /// The default weight of the newest batch in the running estimates (PyTorch's `momentum`).
    public static let defaultMomentum: Float = 0.1
    /// Weight of the newest batch in the running estimates while training:
    /// running ← (1 − m)·running + m·batch. airbench's "batchnorm_momentum 0.6" is the weight of
    /// the old estimate, passed to PyTorch as 1 − 0.6: m = 0.4 here.
    public let trainingMomentum: Float
    /// Weight of the newest batch in the running estimates: `trainingMomentum`, except while
    /// `WeightAverage` recomputes them (1/k for its k-th batch makes them the plain mean).
    public var momentum: Float
    /// Whether γ is trained; without it γ stays 1 and is neither a parameter nor saved.
    public let scaled: Bool
    /// γ (starts at 1) and β (starts at 0): [C]
    public let gamma: Param, beta: Param
    /// E[x] and Var[x] for inference: [C]
    public let runningMean: Param, runningVar: Param
    /// The training batch's input and statistics, kept for backward. x̂ = (x − mean)·invStd is
    /// recomputed there rather than stored: writing it was a fifth of BN's memory traffic.
    private var input = Tensor(zeros: [0])
    private var batchMean = [Float](), invStd = [Float]()
    private var shape = [Int]()

    /// `momentum` in (0, 1]: the weight of the newest batch (see `trainingMomentum`).
    public init(channels: Int, scaled: Bool = true, momentum: Float = BatchNorm.defaultMomentum) {
        self.channels = channels
        self.scaled = scaled
        trainingMomentum = momentum
        self.momentum = momentum
        gamma = Param(name: "gamma", shape: [channels], value: [Float](repeating: 1, count: channels), decays: false)
        beta = Param(name: "beta", shape: [channels], value: [Float](repeating: 0, count: channels), decays: false,
                     isBatchNormBias: true)
        runningMean = Param(name: "running_mean", shape: [channels], value: [Float](repeating: 0, count: channels), decays: false)
        runningVar = Param(name: "running_var", shape: [channels], value: [Float](repeating: 1, count: channels), decays: false)
    }

    public var spec: String {
        "bn" + (scaled ? "" : ":noscale") + (trainingMomentum == BatchNorm.defaultMomentum ? "" : ":momentum=\(trainingMomentum)")
    }
    public var params: [Param] { scaled ? [gamma, beta] : [beta] }
    public var buffers: [Param] { [runningMean, runningVar] }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    /// Inference as y = scale·x + shift per channel (formula 38 with the running estimates).
    public var inferenceScaleShift: (scale: [Float], shift: [Float]) {
        let scale = (0 ..< channels).map { gamma.value[$0] / (runningVar.value[$0] + epsilon).squareRoot() }
        return (scale, (0 ..< channels).map { beta.value[$0] - scale[$0] * runningMean.value[$0] })
    }

    // x: [B, C, S] with S = H·W (1 after an affine layer) → y: same shape
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, training: training, relu: false) }

    /// BN followed by a ReLU in the same passes over the batch (`Network` fuses bn-relu): the
    /// ReLU's mask, γ·x̂ + β > 0, is recomputed from x̂ in `backward`, so it costs neither a pass
    /// of its own nor memory. (Measured on a Zen 4 EPYC: BN and ReLU as separate layers took a
    /// quarter of a training step of mnist-small, all of it memory traffic.)
    public func forward(_ x: Tensor, training: Bool, relu: Bool) -> Tensor {
        let B = x.batch, C = channels, S = x.itemSize / C
        precondition(x.itemSize == C * S, "bn expects \(C) channels")
        let m = Float(B * S)
        shape = x.shape
        if !training {
            let (scale, shift) = inferenceScaleShift
            return Tensor(uninitialized: x.shape) { y in
                x.data.withUnsafeBufferPointer { xp in
                    Threads.parallelFor(B) { images in
                        for b in images {
                            for c in 0 ..< C {
                                let o = (b * C + c) * S
                                affine(xp.baseAddress! + o, scale[c], nil, 0, shift[c], into: y.baseAddress! + o, S)
                                if relu { zeroWhereNotPositive(y.baseAddress! + o, of: y.baseAddress! + o, into: y.baseAddress! + o, count: S) }
                            }
                        }
                    }
                }
            }
        }
        input = x
        batchMean = [Float](repeating: 0, count: C); invStd = [Float](repeating: 0, count: C)
        var batchVar = [Float](repeating: 0, count: C)
        let out = Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                invStd.withUnsafeMutableBufferPointer { inv in
                batchMean.withUnsafeMutableBufferPointer { bm in
                batchVar.withUnsafeMutableBufferPointer { bv in
                    let (g, bt) = (gamma.value, beta.value)
                    Threads.parallelFor(C, minChunk: 8) { range in
                        for c in range {
                            // Two passes (mean, then squared deviations) keep the variance exact
                            // for large means; the channel's B·S values are still in cache.
                            var total: Float = 0
                            for b in 0 ..< B { total += sum(xp.baseAddress! + (b * C + c) * S, S) }
                            let mean = total / m
                            var sq: Float = 0
                            for b in 0 ..< B { sq += sumSquaredDeviation(xp.baseAddress! + (b * C + c) * S, S, mean: mean) }
                            let variance = sq / m
                            let istd = 1 / (variance + epsilon).squareRoot()
                            inv[c] = istd
                            for b in 0 ..< B {
                                let o = (b * C + c) * S
                                BatchNorm.normalize(xp.baseAddress! + o, mean: mean, invStd: istd, gamma: g[c], beta: bt[c], relu: relu,
                                                    into: y.baseAddress! + o, S)
                            }
                            bm[c] = mean
                            bv[c] = variance
                        }
                    }
                }
                }
                }
            }
        }
        let unbias = m > 1 ? m / (m - 1) : 1
        for c in 0 ..< C {
            runningMean.value[c] += momentum * (batchMean[c] - runningMean.value[c])
            runningVar.value[c] += momentum * (batchVar[c] * unbias - runningVar.value[c])
        }
        return out
    }

    /// γ·x̂ + β, the output before the fused ReLU, computed by forward and (for the ReLU's mask) by
    /// backward alike, so both see the same signs.
    @inline(__always)
    static func output(_ h: SIMD8<Float>, _ g: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { g * h + b }

    /// y = γ·x̂ + β with x̂ = (x − mean)·invStd (then max(y, 0) if `relu`) in one SIMD pass over n elements.
    @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, mean: Float, invStd: Float, gamma: Float, beta: Float, relu: Bool,
                          into y: UnsafeMutablePointer<Float>, _ n: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let m = SIMD8<Float>(repeating: mean), k = SIMD8<Float>(repeating: invStd)
        let g = SIMD8<Float>(repeating: gamma), b = SIMD8<Float>(repeating: beta), zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let o = output(xhat(rx, i, m, k), g, b)
            ry.storeBytes(of: relu ? zero.replacing(with: o, where: o .> zero) : o, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let o = gamma * ((x[i] - mean) * invStd) + beta
            y[i] = relu && !(o > 0) ? 0 : o; i += 1
        }
    }

    /// x̂ of the 8 elements from x[i], the same in forward and backward.
    @inline(__always)
    static func xhat(_ x: UnsafeRawPointer, _ i: Int, _ mean: SIMD8<Float>, _ invStd: SIMD8<Float>) -> SIMD8<Float> {
        (x.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - mean) * invStd
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor { backward(dy, needInputGrad: needInputGrad, relu: false) }

    // Formulas 32–37 folded: dx = γ·invstd/m · (m·dz − Σdz − x̂·Σ(dz·x̂)), where dz = dy, or with
    // the fused ReLU dz = dy where γ·x̂ + β > 0 and 0 elsewhere.
    /// The backward pass of `forward(_:training:relu:)` with the same `relu`.
    public func backward(_ dy: Tensor, needInputGrad: Bool, relu: Bool) -> Tensor {
        let B = dy.batch, C = channels, S = dy.itemSize / C
        let m = Float(B * S)
        return Tensor(uninitialized: shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                input.data.withUnsafeBufferPointer { xp in
                    let (g, bt, mean, inv) = (gamma.value, beta.value, batchMean, invStd)
                    gamma.grad.withUnsafeMutableBufferPointer { dg in
                        beta.grad.withUnsafeMutableBufferPointer { db in
                            Threads.parallelFor(C, minChunk: 8) { range in
                                for c in range {
                                    let channel = Channel(mean: mean[c], invStd: inv[c], gamma: g[c], beta: bt[c], relu: relu)
                                    var sdz: Float = 0, sdzx: Float = 0
                                    for b in 0 ..< B {
                                        let o = (b * C + c) * S
                                        let (s, sx) = channel.gradientSums(d.baseAddress! + o, xp.baseAddress! + o, S)
                                        sdz += s; sdzx += sx
                                    }
                                    dg[c] = sdzx; db[c] = sdz
                                    guard needInputGrad else { continue }
                                    let k = g[c] * inv[c] / m
                                    for b in 0 ..< B {
                                        let o = (b * C + c) * S
                                        channel.inputGradient(d.baseAddress! + o, xp.baseAddress! + o, a: k * m, b: -k * sdzx, c: -k * sdz,
                                                              into: dx.baseAddress! + o, S)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One channel's constants in backward: x̂ and the fused ReLU's mask are recomputed from x.
    struct Channel {
        let mean: Float, invStd: Float, gamma: Float, beta: Float, relu: Bool

        /// dz of the 8 elements from i: dy, masked where γ·x̂ + β ≤ 0 if `relu`; and their x̂.
        @inline(__always)
        func dz(_ dy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ i: Int) -> (dz: SIMD8<Float>, xhat: SIMD8<Float>) {
            let h = BatchNorm.xhat(x, i, SIMD8(repeating: mean), SIMD8(repeating: invStd))
            let d = dy.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            guard relu else { return (d, h) }
            let zero = SIMD8<Float>()
            return (zero.replacing(with: d, where: BatchNorm.output(h, SIMD8(repeating: gamma), SIMD8(repeating: beta)) .> zero), h)
        }

        /// dz and x̂ of element i, for the tails.
        @inline(__always)
        func dz(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ i: Int) -> (dz: Float, xhat: Float) {
            let h = (x[i] - mean) * invStd
            return (relu && !(gamma * h + beta > 0) ? 0 : dy[i], h)
        }

        /// (Σ dz, Σ dz·x̂) over n elements.
        @inline(__always)
        func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
            var s = SIMD8<Float>(), sx = SIMD8<Float>(), i = 0
            while i + 8 <= n {
                let (z, h) = dz(UnsafeRawPointer(dy), UnsafeRawPointer(x), i)
                s += z; sx += z * h; i += 8
            }
            var (ts, tsx) = (s.sum(), sx.sum())
            while i < n { let (z, h) = dz(dy, x, i); ts += z; tsx += z * h; i += 1 }
            return (ts, tsx)
        }

        /// dx = a·dz + b·x̂ + c over n elements.
        @inline(__always)
        func inputGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, a: Float, b: Float, c: Float,
                           into dx: UnsafeMutablePointer<Float>, _ n: Int) {
            let ro = UnsafeMutableRawPointer(dx)
            let av = SIMD8<Float>(repeating: a), bv = SIMD8<Float>(repeating: b), cv = SIMD8<Float>(repeating: c)
            var i = 0
            while i + 8 <= n {
                let (z, h) = dz(UnsafeRawPointer(dy), UnsafeRawPointer(x), i)
                ro.storeBytes(of: av * z + bv * h + cv, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { let (z, h) = dz(dy, x, i); dx[i] = a * z + b * h + c; i += 1 }
        }
    }
}
