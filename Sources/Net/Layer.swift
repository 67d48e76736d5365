/// A trainable array and its gradient, kept together.
public final class Param {
    /// Name inside the model file, e.g. `3.conv.W`.
    public var name: String
    public var shape: [Int]
    public var value: [Float] { didSet { version &+= 1 } }
    public var grad: [Float]
    /// Counts the changes of `value`, so that what is derived from it can be kept until it changes.
    public private(set) var version = 0
    /// Whether weight decay applies (weights yes; biases and BN γ, β no).
    public let decays: Bool
    /// Whether this is a batch normalization's β, which an optimizer may give its own learning
    /// rate and weight decay (`OptimizerConfig.bnBiasScale`, `bnBiasDecay`: airbench's recipe).
    public let isBatchNormBias: Bool

    public init(name: String, shape: [Int], value: [Float], decays: Bool, isBatchNormBias: Bool = false) {
        precondition(shape.reduce(1, *) == value.count, "parameter \(name) does not match its shape")
        self.name = name; self.shape = shape; self.value = value; self.decays = decays; self.isBatchNormBias = isBatchNormBias
        grad = [Float](repeating: 0, count: value.count)
    }
}

/// The verbs every layer has: `forward` caches what `backward` needs; `backward` turns the
/// gradient of the output into the gradient of the input and fills its parameters' `grad`.
public protocol Layer: AnyObject {
    /// The spec token that builds this layer (`conv32`, `bn`, `relu`, `pool2`, `fc10`, ...).
    var spec: String { get }
    /// Output shape (without the batch dimension) for an input shape (without the batch dimension).
    func outputShape(_ input: [Int]) -> [Int]
    func forward(_ x: Tensor, training: Bool) -> Tensor
    /// `needInputGrad` is false for the first trained layer, whose input gradient nobody uses (and
    /// `Network.backward` does not call the layers before it).
    func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor
    /// Trainable parameters (empty for most layers).
    var params: [Param] { get }
    /// Non-trainable state saved with the model (BN running statistics).
    var buffers: [Param] { get }
    /// Floating-point operations of one image's forward pass for an input shape (without the
    /// batch dimension): counted for the layers that multiply weights, 0 for the others.
    func forwardFLOPs(input: [Int]) -> Double
}

public extension Layer {
    var params: [Param] { [] }
    var buffers: [Param] { [] }
    func forwardFLOPs(input: [Int]) -> Double { 0 }
}
