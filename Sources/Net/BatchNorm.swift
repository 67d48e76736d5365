import Foundation

/// Batch normalization (course formulas 28–38): per feature for affine outputs [B, M], per
/// channel for convolution outputs [B, C, H, W]. Training uses the batch's mean and variance
/// and updates running estimates; inference uses the running estimates (formula 38).
public final class BatchNorm: Layer {
    public let channels: Int
    public let epsilon: Float = 1e-5
    /// Weight of the newest batch in the running estimates while training.
    public static let trainingMomentum: Float = 0.1
    /// Weight of the newest batch in the running estimates: `trainingMomentum`, except while
    /// `WeightAverage` recomputes them (1/k for its k-th batch makes them the plain mean).
    public var momentum = BatchNorm.trainingMomentum
    /// γ (starts at 1) and β (starts at 0): [C]
    public let gamma: Param, beta: Param
    /// E[x] and Var[x] for inference: [C]
    public let runningMean: Param, runningVar: Param
    private var xhat = [Float]()
    private var invStd = [Float]()
    private var shape = [Int]()

    public init(channels: Int) {
        self.channels = channels
        gamma = Param(name: "gamma", shape: [channels], value: [Float](repeating: 1, count: channels), decays: false)
        beta = Param(name: "beta", shape: [channels], value: [Float](repeating: 0, count: channels), decays: false)
        runningMean = Param(name: "running_mean", shape: [channels], value: [Float](repeating: 0, count: channels), decays: false)
        runningVar = Param(name: "running_var", shape: [channels], value: [Float](repeating: 1, count: channels), decays: false)
    }

    public var spec: String { "bn" }
    public var params: [Param] { [gamma, beta] }
    public var buffers: [Param] { [runningMean, runningVar] }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    /// Inference as y = scale·x + shift per channel (formula 38 with the running estimates).
    public var inferenceScaleShift: (scale: [Float], shift: [Float]) {
        let scale = (0 ..< channels).map { gamma.value[$0] / (runningVar.value[$0] + epsilon).squareRoot() }
        return (scale, (0 ..< channels).map { beta.value[$0] - scale[$0] * runningMean.value[$0] })
    }

    // x: [B, C, S] with S = H·W (1 after an affine layer) → y: same shape
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
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
                            }
                        }
                    }
                }
            }
        }
        if xhat.count != x.count { xhat = [Float](repeating: 0, count: x.count) }
        if invStd.count != C { invStd = [Float](repeating: 0, count: C) }
        var batchMean = [Float](repeating: 0, count: C), batchVar = [Float](repeating: 0, count: C)
        let out = Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                xhat.withUnsafeMutableBufferPointer { xh in
                    invStd.withUnsafeMutableBufferPointer { inv in
                    batchMean.withUnsafeMutableBufferPointer { bm in
                    batchVar.withUnsafeMutableBufferPointer { bv in
                        let (g, bt) = (gamma.value, beta.value)
                        Threads.parallelFor(C, minChunk: 8) { range in
                            for c in range {
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
                                    BatchNorm.normalize(xp.baseAddress! + o, mean: mean, invStd: istd, gamma: g[c], beta: bt[c],
                                                        xhat: xh.baseAddress! + o, y: y.baseAddress! + o, S)
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
        }
        let unbias = m > 1 ? m / (m - 1) : 1
        for c in 0 ..< C {
            runningMean.value[c] += momentum * (batchMean[c] - runningMean.value[c])
            runningVar.value[c] += momentum * (batchVar[c] * unbias - runningVar.value[c])
        }
        return out
    }

    /// x̂ = (x − mean)·invStd and y = γ·x̂ + β in one SIMD pass over n elements.
    @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, mean: Float, invStd: Float, gamma: Float, beta: Float,
                          xhat: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, _ n: Int) {
        let rx = UnsafeRawPointer(x), rh = UnsafeMutableRawPointer(xhat), ry = UnsafeMutableRawPointer(y)
        let m = SIMD8<Float>(repeating: mean), k = SIMD8<Float>(repeating: invStd)
        let g = SIMD8<Float>(repeating: gamma), b = SIMD8<Float>(repeating: beta)
        var i = 0
        while i + 8 <= n {
            let h = (rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - m) * k
            rh.storeBytes(of: h, toByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: g * h + b, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { let h = (x[i] - mean) * invStd; xhat[i] = h; y[i] = gamma * h + beta; i += 1 }
    }

    // Formulas 32–37 folded: dx = γ·invstd/m · (m·dy − Σdy − x̂·Σ(dy·x̂))
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let B = dy.batch, C = channels, S = dy.itemSize / C
        let m = Float(B * S)
        return Tensor(uninitialized: shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                xhat.withUnsafeBufferPointer { xh in
                    let g = gamma.value
                    let inv = invStd
                    gamma.grad.withUnsafeMutableBufferPointer { dg in
                        beta.grad.withUnsafeMutableBufferPointer { db in
                            Threads.parallelFor(C, minChunk: 8) { range in
                                for c in range {
                                    var sdy: Float = 0, sdyx: Float = 0
                                    for b in 0 ..< B {
                                        let o = (b * C + c) * S
                                        sdy += sum(d.baseAddress! + o, S)
                                        sdyx += dot(d.baseAddress! + o, xh.baseAddress! + o, S)
                                    }
                                    dg[c] = sdyx; db[c] = sdy
                                    guard needInputGrad else { continue }
                                    let k = g[c] * inv[c] / m
                                    for b in 0 ..< B {
                                        let o = (b * C + c) * S
                                        affine(d.baseAddress! + o, k * m, xh.baseAddress! + o, -k * sdyx, -k * sdy,
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
}
