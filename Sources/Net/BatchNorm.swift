import CKernels
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
        let (isa, r) = (ISA.active.cValue, relu ? Int32(1) : 0)
        shape = x.shape
        if !training {
            let (scale, shift) = inferenceScaleShift
            return Tensor(uninitialized: x.shape) { y in
                x.data.withUnsafeBufferPointer { xp in
                    Threads.parallelFor(C, minChunk: 8) { range in
                        for c in range {
                            le4_bn_normalize(isa, xp.baseAddress! + c * S, B, C * S, S, 0, scale[c], 1, shift[c], r, y.baseAddress! + c * S)
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
                            le4_bn_statistics(isa, xp.baseAddress! + c * S, B, C * S, S, &bm[c], &bv[c])
                            inv[c] = 1 / (bv[c] + epsilon).squareRoot()
                            le4_bn_normalize(isa, xp.baseAddress! + c * S, B, C * S, S, bm[c], inv[c], g[c], bt[c], r,
                                             y.baseAddress! + c * S)
                        }
                    }
                }
                }
                }
            }
        }
        let m = Float(B * S), unbias = m > 1 ? m / (m - 1) : 1
        for c in 0 ..< C {
            runningMean.value[c] += momentum * (batchMean[c] - runningMean.value[c])
            runningVar.value[c] += momentum * (batchVar[c] * unbias - runningVar.value[c])
        }
        return out
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor { backward(dy, needInputGrad: needInputGrad, relu: false) }

    // Formulas 32–37 folded: dx = γ·invstd/m · (m·dz − Σdz − x̂·Σ(dz·x̂)), where dz = dy, or with
    // the fused ReLU dz = dy where γ·x̂ + β > 0 and 0 elsewhere.
    /// The backward pass of `forward(_:training:relu:)` with the same `relu`.
    public func backward(_ dy: Tensor, needInputGrad: Bool, relu: Bool) -> Tensor {
        let B = dy.batch, C = channels, S = dy.itemSize / C
        let m = Float(B * S), (isa, r) = (ISA.active.cValue, relu ? Int32(1) : 0)
        return Tensor(uninitialized: shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                input.data.withUnsafeBufferPointer { xp in
                    let (g, bt, mean, inv) = (gamma.value, beta.value, batchMean, invStd)
                    gamma.grad.withUnsafeMutableBufferPointer { dg in
                        beta.grad.withUnsafeMutableBufferPointer { db in
                            Threads.parallelFor(C, minChunk: 8) { range in
                                for c in range {
                                    let (dc, xc) = (d.baseAddress! + c * S, xp.baseAddress! + c * S)
                                    le4_bn_gradient_sums(isa, dc, xc, B, C * S, S, mean[c], inv[c], g[c], bt[c], r, &db[c], &dg[c])
                                    guard needInputGrad else { continue }
                                    let k = g[c] * inv[c] / m
                                    le4_bn_input_grad(isa, dc, xc, B, C * S, S, mean[c], inv[c], g[c], bt[c], r,
                                                      k * m, -k * dg[c], -k * db[c], dx.baseAddress! + c * S)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
