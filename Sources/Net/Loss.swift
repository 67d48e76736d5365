import Foundation

/// Softmax followed by cross-entropy against soft targets (course formulas for the output layer).
/// Targets may be one-hot, mixed (mixup) or smoothed: with smoothing ε the targets become
/// (1 − ε)·t + ε/C, so label smoothing needs nothing else.
public struct SoftmaxCrossEntropy: Sendable {
    public var smoothing: Float

    public init(smoothing: Float = 0) { self.smoothing = smoothing }

    /// Row-wise softmax of logits [B, C].
    public static func softmax(_ z: Tensor) -> Tensor {
        let C = z.itemSize
        return Tensor(uninitialized: z.shape) { p in
            z.data.withUnsafeBufferPointer { zp in
                for i in 0 ..< z.batch {
                    let o = i * C
                    var mx = -Float.infinity
                    for j in 0 ..< C { mx = max(mx, zp[o + j]) }
                    var s: Float = 0
                    for j in 0 ..< C { let e = exp(zp[o + j] - mx); p[o + j] = e; s += e }
                    for j in 0 ..< C { p[o + j] /= s }
                }
            }
        }
    }

    // z: [B, C] logits, t: [B, C] targets → (mean loss, dz: [B, C] = (softmax − t')/B)
    public func lossAndGradient(logits z: Tensor, targets t: [Float]) -> (loss: Float, grad: Tensor) {
        let B = z.batch, C = z.itemSize
        precondition(t.count == z.count, "targets do not match logits")
        var p = SoftmaxCrossEntropy.softmax(z)
        var loss: Double = 0
        let eps = smoothing, uniform = smoothing / Float(C)
        p.data.withUnsafeMutableBufferPointer { pp in
            for i in 0 ..< B * C {
                let target = (1 - eps) * t[i] + uniform
                if target > 0 { loss -= Double(target) * SoftmaxCrossEntropy.logProbability(pp[i]) }
                pp[i] = (pp[i] - target) / Float(B)
            }
        }
        return (Float(loss / Double(B)), p)
    }

    /// Mean cross-entropy of probabilities [N, classes] (softmax outputs) against labels, without
    /// smoothing: the held-out loss of a model.
    public static func meanCrossEntropy(probabilities p: [Float], labels: [UInt8]) -> Double {
        guard !labels.isEmpty else { return 0 }
        let classes = p.count / labels.count
        var sum = 0.0
        for (i, l) in labels.enumerated() { sum -= logProbability(p[i * classes + Int(l)]) }
        return sum / Double(labels.count)
    }

    /// log p, with p clamped to 1e-30 so that a probability rounded to 0 costs 69 rather than infinity.
    @inline(__always)
    static func logProbability(_ p: Float) -> Double { log(Double(max(p, 1e-30))) }

    /// One-hot targets [B, C] for labels.
    public static func oneHot(_ labels: [UInt8], classes: Int) -> [Float] {
        var t = [Float](repeating: 0, count: labels.count * classes)
        for (i, l) in labels.enumerated() { t[i * classes + Int(l)] = 1 }
        return t
    }
}
