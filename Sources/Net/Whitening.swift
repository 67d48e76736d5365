import Foundation
import LE4Data

/// Patch whitening (airbench, Jordan 2024): a frozen R×R convolution, stride 1, padding 0, with
/// 2·C·R² filters computed from the training images before training (`fit`). The C·R² values of an
/// R×R patch are correlated (neighbouring pixels and colours move together); the filters are the
/// eigenvectors v of their covariance, each scaled by 1/√(λ + ε), and the same filters negated, so
/// that after a GELU both signs of every direction survive. The output's first C·R² channels have
/// zero mean and about unit, uncorrelated variance: the next convolutions start on decorrelated
/// inputs and train faster.
///
/// Frozen: W and b are not parameters (no optimizer updates them) but buffers, saved in the
/// model file like BN's running statistics. Differences from airbench: the covariance is taken
/// around the patches' mean and b = −W·mean, so the output is centred although le4nn's inputs are
/// pixels in [0, 1], not normalised by the dataset's mean and deviation (airbench trains its bias
/// for the first three epochs instead); and ε is airbench's 5e-4 times the mean variance of a
/// patch value, which is 1 for airbench's normalised inputs, so that it means the same for ours.
public final class PatchWhitening: Layer {
    public let inChannels: Int, size: Int
    /// airbench's ε, 5e-4.
    public static let defaultEpsilon: Float = 5e-4
    /// ε relative to the mean variance of a patch value: the larger, the less the directions of
    /// smallest variance (fine colour detail, or the compression noise of JPEG-decoded images) are
    /// amplified, by at most 1/√ε.
    public let epsilon: Float
    /// The convolution itself: W [2·C·R², C·R²] and b [2·C·R²]. Zero until `fit`.
    let conv: Conv2D

    /// A whitening layer for C = `inChannels` and R = `size`, passing nothing (zero filters) until `fit`.
    /// The convolution's own initial draw from `rng` is discarded (zeroed here, replaced by `fit`).
    public init(inChannels: Int, size: Int, epsilon: Float = PatchWhitening.defaultEpsilon, rng: inout SeededRNG) {
        self.inChannels = inChannels; self.size = size; self.epsilon = epsilon
        conv = Conv2D(inChannels: inChannels, filters: 2 * inChannels * size * size, size: size, stride: 1, pad: 0,
                      initializer: .he, rng: &rng)
        conv.W.value = [Float](repeating: 0, count: conv.W.value.count)
    }

    public var spec: String {
        (size == 2 ? "whiten" : "whiten\(size)") + (epsilon == PatchWhitening.defaultEpsilon ? "" : ":eps=\(epsilon)")
    }
    /// Frozen: saved with the model, never updated by an optimizer.
    public var buffers: [Param] { [conv.W, conv.b] }
    public func outputShape(_ input: [Int]) -> [Int] { conv.outputShape(input) }
    public func forwardFLOPs(input: [Int]) -> Double { conv.forwardFLOPs(input: input) }

    // x: [B, C, H, W] → y: [B, 2·C·R², H − R + 1, W − R + 1]
    public func forward(_ x: Tensor, training: Bool) -> Tensor { conv.forward(x, training: training) }

    // dy → dx (the convolution's); nothing at all as the first layer, since W and b are frozen.
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        needInputGrad ? conv.backward(dy, needInputGrad: true) : Tensor(zeros: [0])
    }

    /// Sets W and b from `x`: [N, C, H, W], the inputs this layer will see (airbench: the first
    /// 5,000 training images, not augmented). ε is relative to the mean patch variance (see above).
    public func fit(_ x: Tensor) {
        let d = inChannels * size * size
        let (mean, covariance) = patchStatistics(x)
        let (values, vectors) = PatchWhitening.symmetricEigen(covariance, d)
        let trace = (0 ..< d).reduce(0) { $0 + covariance[$1 * d + $1] }
        let eps = Double(epsilon) * trace / Double(d)
        var w = [Float](repeating: 0, count: 2 * d * d), b = [Float](repeating: 0, count: 2 * d)
        // Largest eigenvalue first, as airbench orders them.
        let order = (0 ..< d).sorted { values[$0] > values[$1] }
        for (k, e) in order.enumerated() {
            let scale = 1 / (max(values[e], 0) + eps).squareRoot()
            var shift = 0.0
            for i in 0 ..< d {
                let v = vectors[e * d + i] * scale
                w[k * d + i] = Float(v); w[(d + k) * d + i] = Float(-v)
                shift -= v * mean[i]
            }
            b[k] = Float(shift); b[d + k] = Float(-shift)
        }
        conv.W.value = w
        conv.b.value = b
    }

    /// The mean [d] and covariance [d, d] of every R×R patch of x, d = C·R², in the order of a
    /// filter's weights (channel, row, column). Summed in Double over blocks of a fixed number of
    /// images, in parallel, then the blocks in order: the result does not depend on the thread count.
    func patchStatistics(_ x: Tensor) -> (mean: [Double], covariance: [Double]) {
        let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let R = size, d = C * R * R, OH = H - R + 1, OW = W - R + 1
        let block = 64, blocks = (N + block - 1) / block
        // Per block: Σ p (d values), then Σ p·pᵀ (d·d values, upper triangle filled).
        var partial = [Double](repeating: 0, count: blocks * (d + d * d))
        x.data.withUnsafeBufferPointer { xp in
            partial.withUnsafeMutableBufferPointer { pp in
                Threads.parallelFor(blocks) { range in
                    var patch = [Double](repeating: 0, count: d)
                    for blk in range {
                        let sum = pp.baseAddress! + blk * (d + d * d), outer = sum + d
                        for n in blk * block ..< min(N, (blk + 1) * block) {
                            for oh in 0 ..< OH {
                                for ow in 0 ..< OW {
                                    for c in 0 ..< C {
                                        for i in 0 ..< R {
                                            for j in 0 ..< R {
                                                patch[(c * R + i) * R + j] = Double(xp[((n * C + c) * H + oh + i) * W + ow + j])
                                            }
                                        }
                                    }
                                    for a in 0 ..< d {
                                        sum[a] += patch[a]
                                        for b in a ..< d { outer[a * d + b] += patch[a] * patch[b] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var mean = [Double](repeating: 0, count: d), covariance = [Double](repeating: 0, count: d * d)
        for blk in 0 ..< blocks {
            let o = blk * (d + d * d)
            for a in 0 ..< d { mean[a] += partial[o + a] }
            for a in 0 ..< d * d { covariance[a] += partial[o + d + a] }
        }
        let count = Double(N * OH * OW)
        for a in 0 ..< d { mean[a] /= count }
        for a in 0 ..< d {
            for b in a ..< d {
                let c = covariance[a * d + b] / count - mean[a] * mean[b]
                covariance[a * d + b] = c; covariance[b * d + a] = c
            }
        }
        return (mean, covariance)
    }

    /// Eigenvalues and eigenvectors (row k of `vectors` belongs to value k) of the symmetric n×n
    /// matrix `a`, by cyclic Jacobi rotations: each rotation zeroes one off-diagonal pair, and the
    /// sweeps over all pairs converge quadratically. Small n only (the 12×12 of 2×2 colour patches).
    static func symmetricEigen(_ a: [Double], _ n: Int) -> (values: [Double], vectors: [Double]) {
        var a = a
        var v = [Double](repeating: 0, count: n * n)
        for i in 0 ..< n { v[i * n + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0 ..< 100 {
            var off = 0.0
            for p in 0 ..< n { for q in p + 1 ..< n { off += a[p * n + q] * a[p * n + q] } }
            if off <= 1e-30 * total { break }
            for p in 0 ..< n - 1 {
                for q in p + 1 ..< n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    // The rotation J (c, s) for which (JᵀAJ)[p, q] = 0 (Numerical Recipes §11.1).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0 ..< n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq; a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0 ..< n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk; a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0 ..< n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq; v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        // The columns of v are the eigenvectors; returned as rows.
        var vectors = [Double](repeating: 0, count: n * n)
        for k in 0 ..< n { for i in 0 ..< n { vectors[k * n + i] = v[i * n + k] } }
        return ((0 ..< n).map { a[$0 * n + $0] }, vectors)
    }
}

extension Network {
    /// Fits every patch-whitening layer (`PatchWhitening.fit`) to `images`: [N, C, H, W], as
    /// `Network.input` gives them; a whitening layer after others sees their inference output.
    /// Call once before training; a network without one is left as it is.
    public func fitWhitening(_ images: Tensor) {
        for (i, layer) in layers.enumerated() {
            guard let whitening = layer as? PatchWhitening else { continue }
            whitening.fit(layers[..<i].reduce(images) { $1.forward($0, training: false) })
        }
    }

    /// Whether the network has a layer that `fitWhitening` must set before training.
    public var needsWhitening: Bool { layers.contains { $0 is PatchWhitening } }
}

extension PatchWhitening: SpecLayer {
    public static let grammar = """
      whiten[<R>]                frozen R×R patch-whitening convolution
                                 (default 2; 2·C·R² filters, padding 0),
                                 fitted to training images before training
    """
    public static let optionGrammar = """
      whiten :eps=<e>            ε added to each eigenvalue, relative to the
                                 mean patch variance (default 0.0005)
    """
    public static func names(_ name: String) -> Bool { name.hasPrefix("whiten") }

    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        let r = t.name == "whiten" ? 2 : t.number(after: "whiten") ?? 0
        guard r > 0 else { throw t.bad("expected whiten or whiten<R>") }
        try t.requireImage(atLeast: r)
        let patch = Double(t.shape[0] * r * r)
        try t.reserve(weights: 2 * patch * patch)
        let eps = try t.value("eps", default: defaultEpsilon, valid: { $0 > 0 && $0 <= 1 }, range: "in (0, 1]")
        return [PatchWhitening(inChannels: t.shape[0], size: r, epsilon: eps, rng: &t.rng)]
    }
}
