import Foundation

/// The course's update rules (section 5.5, formulas 39–55) with their default hyper-parameters,
/// and Nesterov momentum (airbench's). Each keeps its state per parameter, in the order `step`
/// receives them.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam

    /// The course's recommended learning rate (AdaDelta has none: it is the scale of its step);
    /// Nesterov momentum takes momentum's.
    public var defaultLearningRate: Float {
        switch self {
        case .sgd, .momentum, .nesterov, .rmsprop: return 0.01
        case .adagrad, .adam: return 0.001
        case .adadelta: return 1
        }
    }
}

/// Hyper-parameters; `nil` fields take the course's defaults.
public struct OptimizerConfig: Sendable, Equatable {
    public var kind: OptimizerKind
    public var learningRate: Float
    /// Momentum α (0.9, Nesterov too), RMSProp/AdaDelta ρ (0.99 / 0.95), Adam β₁ (0.9).
    public var beta1: Float
    /// Adam β₂ (0.999).
    public var beta2: Float
    /// ε of RMSProp (1e-8), AdaDelta (1e-6), Adam (1e-8); AdaGrad's h₀ (1e-8).
    public var epsilon: Float
    /// L2 weight decay λ: adds λ·W to the gradient of weights (not biases or BN γ, β).
    public var weightDecay: Float
    /// L1 penalty λ: adds λ·sign(W) to the gradient of weights.
    public var l1: Float
    /// The learning rate of BN biases β relative to the rest (airbench's `bias_scaler` 64): their
    /// gradient is multiplied by it, the weight decay added to it is not, so that their decay per
    /// step stays that of the weights, as in airbench.
    public var bnBiasScale: Float
    /// Whether BN biases β take the weight decay too (airbench decays every parameter; the course
    /// only weights).
    public var bnBiasDecay: Bool

    public init(_ kind: OptimizerKind, learningRate: Float? = nil, beta1: Float? = nil, beta2: Float? = nil,
                epsilon: Float? = nil, weightDecay: Float = 0, l1: Float = 0, bnBiasScale: Float = 1, bnBiasDecay: Bool = false) {
        self.kind = kind
        self.learningRate = learningRate ?? kind.defaultLearningRate
        let defaultBeta1: Float
        switch kind {
        case .rmsprop: defaultBeta1 = 0.99
        case .adadelta: defaultBeta1 = 0.95
        default: defaultBeta1 = 0.9
        }
        self.beta1 = beta1 ?? defaultBeta1
        self.beta2 = beta2 ?? 0.999
        self.epsilon = epsilon ?? (kind == .adadelta ? 1e-6 : 1e-8)
        self.weightDecay = weightDecay
        self.l1 = l1
        self.bnBiasScale = bnBiasScale
        self.bnBiasDecay = bnBiasDecay
    }
}

/// Applies one update to every parameter from its `grad`.
public final class Optimizer {
    public let config: OptimizerConfig
    private var state1 = [[Float]]()   // ΔW (momentum), v (Nesterov), h (AdaGrad, RMSProp, AdaDelta), m (Adam)
    private var state2 = [[Float]]()   // s (AdaDelta), v (Adam); empty arrays for the others
    /// Steps taken (Adam's t).
    public private(set) var t = 0

    public init(_ config: OptimizerConfig) { self.config = config }

    /// Whether the rule keeps a second array per parameter (AdaDelta's s, Adam's v).
    var keepsSecondState: Bool { config.kind == .adadelta || config.kind == .adam }

    /// The per-parameter state arrays and step count, for checkpoints (none before the first
    /// step; the `second` arrays are empty unless the rule keeps them).
    public var state: (t: Int, first: [[Float]], second: [[Float]]) { (t, state1, state2) }

    /// Continues from a checkpoint's state for `params`: refused unless every array the rule
    /// needs is there with the parameter's size (a second array the rule does not use is ignored).
    public func restore(t: Int, first: [[Float]], second: [[Float]], params: [Param]) throws {
        func fits(_ arrays: [[Float]]) -> Bool {
            arrays.count == params.count && zip(arrays, params).allSatisfy { $0.count == $1.value.count }
        }
        guard t >= 0, fits(first), !keepsSecondState || fits(second) else {
            throw NetError("the saved \(config.kind.rawValue) state does not fit the network's parameters")
        }
        self.t = t
        state1 = first
        state2 = keepsSecondState ? second : params.map { _ in [] }
    }

    /// One update with learning rate `lr` (the schedule's value this step).
    public func step(_ params: [Param], lr: Float) {
        if state1.count != params.count {
            let h0: Float = config.kind == .adagrad ? config.epsilon : 0
            state1 = params.map { [Float](repeating: h0, count: $0.value.count) }
            state2 = params.map { keepsSecondState ? [Float](repeating: 0, count: $0.value.count) : [] }
        }
        t += 1
        let c = config
        let bias1 = 1 - pow(c.beta1, Float(t)), bias2 = 1 - pow(c.beta2, Float(t))
        for (k, p) in params.enumerated() {
            let decays = p.decays || (p.isBatchNormBias && c.bnBiasDecay)
            let wd = decays ? c.weightDecay : 0, l1 = p.decays ? c.l1 : 0
            let scale = p.isBatchNormBias ? c.bnBiasScale : 1
            p.value.withUnsafeMutableBufferPointer { w in
            p.grad.withUnsafeBufferPointer { g in
            state1[k].withUnsafeMutableBufferPointer { s1 in
            state2[k].withUnsafeMutableBufferPointer { s2 in
                // Element by element, so the split across threads changes nothing; one loop per
                // rule (the switch outside it), so that the compiler vectorizes it.
                Threads.parallelFor(w.count, minChunk: 1 << 15) { range in
                    @inline(__always) func gradient(_ i: Int) -> Float {
                        var gi = scale * g[i]
                        if wd != 0 { gi += wd * w[i] }
                        if l1 != 0 { gi += l1 * (w[i] > 0 ? 1 : w[i] < 0 ? -1 : 0) }
                        return gi
                    }
                    switch c.kind {
                    case .sgd:  // (39)
                        for i in range { w[i] -= lr * gradient(i) }
                    case .momentum:  // (40, 41)
                        for i in range { s1[i] = c.beta1 * s1[i] - lr * gradient(i); w[i] += s1[i] }
                    case .nesterov:
                        // PyTorch's form, which airbench uses: v ← αv + g, W −= η(g + αv). v holds
                        // gradients, not steps, so a change of η applies to the whole step at once.
                        for i in range {
                            let gi = gradient(i)
                            s1[i] = c.beta1 * s1[i] + gi
                            w[i] -= lr * (gi + c.beta1 * s1[i])
                        }
                    case .adagrad:  // (42, 43)
                        for i in range {
                            let gi = gradient(i)
                            s1[i] += gi * gi
                            w[i] -= lr * gi / s1[i].squareRoot()
                        }
                    case .rmsprop:  // (44, 45)
                        for i in range {
                            let gi = gradient(i)
                            s1[i] = c.beta1 * s1[i] + (1 - c.beta1) * gi * gi
                            w[i] -= lr * gi / (s1[i].squareRoot() + c.epsilon)
                        }
                    case .adadelta:  // (46–49); lr scales the step, 1 is the course's rule
                        for i in range {
                            let gi = gradient(i)
                            s1[i] = c.beta1 * s1[i] + (1 - c.beta1) * gi * gi
                            let dw = -(s2[i].squareRoot() + c.epsilon) / (s1[i].squareRoot() + c.epsilon) * gi
                            s2[i] = c.beta1 * s2[i] + (1 - c.beta1) * dw * dw
                            w[i] += lr * dw
                        }
                    case .adam:  // (50–55)
                        for i in range {
                            let gi = gradient(i)
                            s1[i] = c.beta1 * s1[i] + (1 - c.beta1) * gi
                            s2[i] = c.beta2 * s2[i] + (1 - c.beta2) * gi * gi
                            w[i] -= lr * (s1[i] / bias1) / ((s2[i] / bias2).squareRoot() + c.epsilon)
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
