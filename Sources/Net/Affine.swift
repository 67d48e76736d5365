import LE4Data

/// Fully connected layer: y = x·Wᵀ + b (the course's y = Wx + b, for a batch of rows).
/// Any input is flattened to [B, N], as the course does after convolution and pooling.
///
/// Options from airbench's recipe: `nobias` (b stays 0, neither trained nor saved) and
/// `scale=s`, y = s·(x·Wᵀ + b): airbench multiplies its logits by 1/9, which with the same
/// learning rate makes the last layer learn more slowly than the convolutions.
public final class Affine: Layer {
    public let inputs: Int, outputs: Int
    /// Whether b is a parameter.
    public let hasBias: Bool
    /// s of y = s·(x·Wᵀ + b); 1 leaves the layer as the course defines it.
    public let scale: Float
    /// W: [outputs, inputs], b: [outputs]
    public let W: Param, b: Param
    private var x = Tensor(zeros: [0])

    public init(inputs: Int, outputs: Int, initializer: Initializer, rng: inout SeededRNG, bias: Bool = true, scale: Float = 1) {
        self.inputs = inputs; self.outputs = outputs; hasBias = bias; self.scale = scale
        W = Param(name: "W", shape: [outputs, inputs],
                  value: initializer.draw(count: outputs * inputs, fanIn: inputs, fanOut: outputs, rng: &rng), decays: true)
        b = Param(name: "b", shape: [outputs], value: [Float](repeating: 0, count: outputs), decays: false)
    }

    public var spec: String { "fc\(outputs)" + (hasBias ? "" : ":nobias") + (scale == 1 ? "" : ":scale=\(scale)") }
    public var params: [Param] { hasBias ? [W, b] : [W] }
    public func outputShape(_ input: [Int]) -> [Int] { [outputs] }
    public func forwardFLOPs(input: [Int]) -> Double { 2 * Double(inputs) * Double(outputs) }

    // x: [B, N] → y: [B, M]
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let B = x.batch
        precondition(x.itemSize == inputs, "fc\(outputs) expects \(inputs) inputs, got \(x.itemSize)")
        if training { self.x = x }
        return Tensor(uninitialized: [B, outputs]) { y in
            b.value.withUnsafeBufferPointer { bias in
                for i in 0 ..< B { (y.baseAddress! + i * outputs).initialize(from: bias.baseAddress!, count: outputs) }
            }
            x.data.withUnsafeBufferPointer { xp in
                W.value.withUnsafeBufferPointer { wp in
                    parallelGemm(transB: true, m: B, n: outputs, k: inputs, a: xp.baseAddress!, lda: inputs,
                         b: wp.baseAddress!, ldb: inputs, beta: 1, c: y.baseAddress!, ldc: outputs)
                }
            }
            if scale != 1 { for i in 0 ..< B * outputs { y[i] *= scale } }
        }
    }

    // dy: [B, M] → dx: [B, N]; with dz = s·dy: dW = dzᵀ·x, db = column sums of dz, dx = dz·W
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let B = dy.batch
        let dy = scale == 1 ? dy : Tensor(shape: dy.shape, data: dy.data.map { $0 * scale })
        dy.data.withUnsafeBufferPointer { dp in
            x.data.withUnsafeBufferPointer { xp in
                W.grad.withUnsafeMutableBufferPointer { gw in
                    parallelGemm(transA: true, m: outputs, n: inputs, k: B, a: dp.baseAddress!, lda: outputs,
                         b: xp.baseAddress!, ldb: inputs, c: gw.baseAddress!, ldc: inputs)
                }
            }
            guard hasBias else { return }
            b.grad.withUnsafeMutableBufferPointer { gb in
                for j in 0 ..< outputs { gb[j] = 0 }
                for i in 0 ..< B { for j in 0 ..< outputs { gb[j] += dp[i * outputs + j] } }
            }
        }
        guard needInputGrad else { return Tensor(zeros: [0]) }
        return Tensor(uninitialized: x.shape) { dx in
            dy.data.withUnsafeBufferPointer { dp in
                W.value.withUnsafeBufferPointer { wp in
                    parallelGemm(m: B, n: inputs, k: outputs, a: dp.baseAddress!, lda: outputs,
                         b: wp.baseAddress!, ldb: inputs, c: dx.baseAddress!, ldc: inputs)
                }
            }
        }
    }
}

extension Affine: SpecLayer {
    public static let grammar = """
      fc<N>                      affine layer with N outputs (flattens its
                                 input); the last must be fc<classes>
    """
    public static let optionGrammar = """
      fc :nobias                 no bias
      fc :scale=<s>              outputs multiplied by s
    """
    public static func names(_ name: String) -> Bool { name.hasPrefix("fc") }

    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        guard let n = t.number(after: "fc") else { throw t.bad("expected fc<N>") }
        let bias = !t.flag("nobias")
        let scale = try t.value("scale", default: 1, valid: { $0 > 0 }, range: "a number > 0")
        let inputs = t.shape.reduce(1, *)
        try t.reserve(weights: Double(inputs) * Double(n))
        let affine = Affine(inputs: inputs, outputs: n, initializer: t.initializer, rng: &t.rng, bias: bias, scale: scale)
        return t.shape.count > 1 ? [Flatten(), affine] : [affine]
    }
}
