import Kernels
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

    /// An activation that runs in BN's own passes over the batch (`Network` fuses bn-relu and
    /// bn-gelu): applied to γ·x̂ + β as it is written, and in backward its slope (ReLU's mask,
    /// GELU's Φ + x·φ) recomputed from x̂, so it costs neither a pass of its own nor memory for
    /// its input. (Measured on a Zen 4 EPYC: BN and ReLU as separate layers took a quarter of a
    /// training step of mnist-small, all of it memory traffic.)
    public enum Activation {
        case identity, relu, gelu
        /// The kernels' `act` (kernels.h's le4_activation).
        var code: Int32 {
            switch self {
            case .identity: Int32(LE4_ACTIVATION_IDENTITY.rawValue)
            case .relu: Int32(LE4_ACTIVATION_RELU.rawValue)
            case .gelu: Int32(LE4_ACTIVATION_GELU.rawValue)
            }
        }
    }

    // x: [B, C, S] with S = H·W (1 after an affine layer) → y: same shape
    public func forward(_ x: Tensor, training: Bool) -> Tensor { forward(x, training: training, then: .identity) }

    /// BN followed by `activation` in the same passes over the batch.
    public func forward(_ x: Tensor, training: Bool, then activation: Activation) -> Tensor {
        let C = channels, S = x.itemSize / C
        precondition(x.itemSize == C * S, "bn expects \(C) channels")
        guard training else {
            let (scale, shift) = inferenceScaleShift
            return normalize(x, mean: [Float](repeating: 0, count: C), invStd: scale, gamma: [Float](repeating: 1, count: C),
                             beta: shift, activation: activation)
        }
        return trainingForward(x, activation: activation, pool: nil)
    }

    /// BN, its ReLU and the 2×2 max pooling after them as one training step (`Network` fuses
    /// bn-relu-pool): each channel of each image is normalized into a buffer that stays in cache and
    /// pooled from there, so the full-size output is neither written to memory nor read back. The
    /// pool's outputs and maxima are those of the three layers run one after the other, bit for bit.
    // x: [B, C, H, W] → y: [B, C, H/2, W/2]
    public func forward(_ x: Tensor, reluThenPool pool: MaxPool) -> Tensor {
        trainingForward(x, activation: .relu, pool: pool)
    }

    /// y = γ·(x − mean)·invStd + β per channel, then `activation`; image by image.
    private func normalize(_ x: Tensor, mean: [Float], invStd: [Float], gamma: [Float], beta: [Float],
                           activation: Activation) -> Tensor {
        let C = channels, S = x.itemSize / C
        return Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                Threads.parallelFor(x.batch) { images in
                    for n in images {
                        ISA.active.kernels.bn_normalize(xp.baseAddress! + n * C * S, C, S, mean, invStd, gamma, beta, activation.code,
                                                        y.baseAddress! + n * C * S)
                    }
                }
            }
        }
    }

    /// Images per block of the sums over the batch: each block is summed on its own and the
    /// blocks are added in order, so that statistics and gradients do not depend on the thread count.
    static let imagesPerBlock = 8

    /// Two sums per channel over a batch of B images, [C] each, in Double: `add(images, first,
    /// second)` adds the share of a block of images, in order, to the [C] arrays it is given. The
    /// batch is read image by image, in memory order (kernels.h says why).
    private func batchSums(_ B: Int, _ add: (Range<Int>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)
        -> (first: [Double], second: [Double]) {
        let C = channels, per = BatchNorm.imagesPerBlock, blocks = (B + per - 1) / per
        var partial = [Double](repeating: 0, count: blocks * 2 * C)
        partial.withUnsafeMutableBufferPointer { pp in
            Threads.parallelFor(blocks) { range in
                for block in range {
                    let first = pp.baseAddress! + block * 2 * C
                    add(block * per ..< min(B, (block + 1) * per), first, first + C)
                }
            }
        }
        var first = [Double](repeating: 0, count: C), second = first
        for block in 0 ..< blocks {
            for c in 0 ..< C { first[c] += partial[block * 2 * C + c]; second[c] += partial[(block * 2 + 1) * C + c] }
        }
        return (first, second)
    }

    /// The batch's mean and (biased) variance of each channel of x [B, C, S], in one pass: from the
    /// sums of differences from the channel's first value, which is near its mean (kernels.h).
    func statistics(_ x: Tensor) -> (mean: [Float], variance: [Float]) {
        let C = channels, S = x.itemSize / C
        let shift = (0 ..< C).map { x.data[$0 * S] }
        let (sum, squares) = x.data.withUnsafeBufferPointer { xp in
            batchSums(x.batch) { images, sum, squares in
                for n in images { ISA.active.kernels.bn_sums(xp.baseAddress! + n * C * S, C, S, shift, sum, squares) }
            }
        }
        let m = Double(x.batch * S)
        let mean = (0 ..< C).map { Float(Double(shift[$0]) + sum[$0] / m) }
        let variance = (0 ..< C).map { c in Float(max(0, squares[c] / m - (sum[c] / m) * (sum[c] / m))) }
        return (mean, variance)
    }

    private func trainingForward(_ x: Tensor, activation: Activation, pool: MaxPool?) -> Tensor {
        let B = x.batch, C = channels, S = x.itemSize / C
        input = x
        let batchVar: [Float]
        (batchMean, batchVar) = statistics(x)
        invStd = batchVar.map { 1 / ($0 + epsilon).squareRoot() }
        let m = Float(B * S), unbias = m > 1 ? m / (m - 1) : 1
        for c in 0 ..< C {
            runningMean.value[c] += momentum * (batchMean[c] - runningMean.value[c])
            runningVar.value[c] += momentum * (batchVar[c] * unbias - runningVar.value[c])
        }
        guard let pool else { return normalize(x, mean: batchMean, invStd: invStd, gamma: gamma.value, beta: beta.value, activation: activation) }
        let (H, W) = (x.shape[2], x.shape[3]), OS = (H / 2) * (W / 2)
        // The kernels' per-channel arguments, C of each: mean, 1/σ, γ, β.
        let args = batchMean + invStd + gamma.value + beta.value
        pool.prepare(input: x.shape)
        return Tensor(uninitialized: [B] + pool.outputShape(Array(x.shape.dropFirst()))) { y in
            x.data.withUnsafeBufferPointer { xp in
                args.withUnsafeBufferPointer { ap in
                    pool.argmax.withUnsafeMutableBufferPointer { argmax in
                        Threads.parallelFor(B) { images in
                            // One channel of one image after BN and ReLU, before pooling.
                            let plane = UnsafeMutablePointer<Float>.allocate(capacity: S)
                            defer { plane.deallocate() }
                            let kernels = ISA.active.kernels  // once, not per channel
                            for n in images {
                                for c in 0 ..< C {
                                    let (p, a) = (n * C + c, ap.baseAddress! + c)
                                    kernels.bn_normalize(xp.baseAddress! + p * S, 1, S, a, a + C, a + 2 * C, a + 3 * C, Activation.relu.code, plane)
                                    kernels.maxpool2x2(plane, 1, H, W, Int32(truncatingIfNeeded: p * S),
                                                       y.baseAddress! + p * OS, argmax.baseAddress! + p * OS)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor { backward(dy, needInputGrad: needInputGrad, then: .identity) }

    /// The backward pass of `forward(_:training:then:)` with the same `activation`.
    public func backward(_ dy: Tensor, needInputGrad: Bool, then activation: Activation) -> Tensor {
        trainingBackward(dy, needInputGrad: needInputGrad, activation: activation, pool: nil)
    }

    /// The backward pass of `forward(_:reluThenPool:)`. The pool's gradient, dy at each window's
    /// maximum and 0 elsewhere, is scattered one channel of one image at a time into a buffer that
    /// stays in cache, for the sums and again for dx, instead of into a full-size tensor.
    // dy: [B, C, H/2, W/2] → dx: [B, C, H, W]
    public func backward(_ dy: Tensor, needInputGrad: Bool, reluThenPool pool: MaxPool) -> Tensor {
        trainingBackward(dy, needInputGrad: needInputGrad, activation: .relu, pool: pool)
    }

    // Formulas 32–37 folded: dx = γ·invstd/m · (m·dz − Σdz − x̂·Σ(dz·x̂)), where dz is the gradient
    // before the activation: dy·act′(γ·x̂ + β). ReLU's mask is recomputed in both passes; GELU's
    // slope, which costs as much as a pass over memory, once: the sums pass writes dz where dx
    // will go, and the second pass turns it into dx in place.
    private func trainingBackward(_ dy: Tensor, needInputGrad: Bool, activation: Activation, pool: MaxPool?) -> Tensor {
        let B = input.batch, C = channels, S = input.itemSize / C, OS = dy.itemSize / C
        let (kernels, r) = (ISA.active.kernels, activation.code)
        let keepsDz = activation == .gelu
        // The kernels' per-channel arguments, C of each: mean, 1/σ, γ, β, and dx = a·dz + b·x̂ + e's a, b, e.
        var args = batchMean + invStd + gamma.value + beta.value + [Float](repeating: 0, count: 3 * C)
        var dx = needInputGrad ? uninitializedFloats(input.data.count) : []
        let argmax = pool?.argmax ?? []
        args.withUnsafeMutableBufferPointer { ap in
            dy.data.withUnsafeBufferPointer { dp in
                input.data.withUnsafeBufferPointer { xp in
                    argmax.withUnsafeBufferPointer { am in
                        dx.withUnsafeMutableBufferPointer { dxp in
                            let (k, d, x) = (ap.baseAddress!, dp.baseAddress!, xp.baseAddress!)
                            // Image n's gradient in `source` (dy, or GELU's dz kept in dx), as `body(c, channels,
                            // dz)` for the channels from c on: all of the image at once, or after a pool each
                            // channel's gradient scattered into `plane`.
                            func channels(of n: Int, in source: UnsafePointer<Float>, _ plane: UnsafeMutablePointer<Float>,
                                          _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
                                guard pool != nil else { body(0, C, source + n * C * S); return }
                                for c in 0 ..< C {
                                    let p = n * C + c, first = Int32(truncatingIfNeeded: p * S)
                                    plane.initialize(repeating: 0, count: S)
                                    for j in p * OS ..< (p + 1) * OS { plane[Int(am[j] - first)] = d[j] }
                                    body(c, 1, plane)
                                }
                            }
                            // Each thread's buffers: a pool's scattered gradient; GELU's dz when there is no dx to keep it.
                            let planeSize = pool == nil ? 0 : S, scratchSize = keepsDz && !needInputGrad ? C * S : 0
                            let (sumDz, sumDzXhat) = batchSums(B) { images, sdz, sdzx in
                                let plane = UnsafeMutablePointer<Float>.allocate(capacity: planeSize)
                                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
                                defer { plane.deallocate(); scratch.deallocate() }
                                for n in images {
                                    channels(of: n, in: d, plane) { c, count, dz in
                                        let a = k + c, keep = needInputGrad ? dxp.baseAddress! + n * C * S : scratch
                                        kernels.bn_gradient_sums(dz, x + (n * C + c) * S, count, S, a, a + C, a + 2 * C, a + 3 * C, r,
                                                                 keepsDz ? keep : nil, sdz + c, sdzx + c)
                                    }
                                }
                            }
                            let m = Float(B * S)
                            for c in 0 ..< C {
                                (beta.grad[c], gamma.grad[c]) = (Float(sumDz[c]), Float(sumDzXhat[c]))
                                let f = k[2 * C + c] * k[C + c] / m
                                (k[4 * C + c], k[5 * C + c], k[6 * C + c]) = (f * m, -f * gamma.grad[c], -f * beta.grad[c])
                            }
                            guard needInputGrad else { return }
                            // With GELU, dz is already in dx, past the activation.
                            let (source, act) = keepsDz ? (UnsafePointer(dxp.baseAddress!), Activation.identity.code) : (d, r)
                            Threads.parallelFor(B) { images in
                                let plane = UnsafeMutablePointer<Float>.allocate(capacity: planeSize)
                                defer { plane.deallocate() }
                                for n in images {
                                    channels(of: n, in: source, plane) { c, count, dz in
                                        let a = k + c
                                        kernels.bn_input_grad(dz, x + (n * C + c) * S, count, S, a, a + C, a + 2 * C, a + 3 * C, act,
                                                              a + 4 * C, a + 5 * C, a + 6 * C, dxp.baseAddress! + (n * C + c) * S)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return needInputGrad ? Tensor(shape: input.shape, data: dx) : Tensor(zeros: [0])
    }
}

extension BatchNorm: SpecLayer {
    public static let grammar = """
      bn                         batch normalization (per channel after conv,
                                 per feature after fc)
    """
    public static let optionGrammar = """
      bn :noscale                γ fixed at 1, only β trained
      bn :momentum=<m>           weight of the newest batch in the running
                                 statistics (default 0.1)
    """
    public static func names(_ name: String) -> Bool { name == "bn" }

    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        let scaled = !t.flag("noscale")
        let momentum = try t.value("momentum", default: defaultMomentum, valid: { $0 > 0 && $0 <= 1 }, range: "in (0, 1]")
        return [BatchNorm(channels: t.shape[0], scaled: scaled, momentum: momentum)]
    }
}
