/// How a network's passes run its layers: mostly one at a time, but some neighbours as one fused
/// kernel that reads and writes memory once instead of two or three times. Planned once, when
/// the network is built, from the layer sequence; `Network.pass` and `backward` only follow it.
struct FusionPlan {
    /// One step of a pass. `first` is the index of the step's first layer.
    enum Step {
        /// A layer alone.
        case layer(Layer, first: Int)
        /// bn-relu or bn-gelu (training and inference): `BatchNorm.forward(_:training:then:)`.
        case bnActivation(BatchNorm, BatchNorm.Activation, first: Int)
        /// bn-relu-pool with a 2×2 pool (training): `BatchNorm.forward(_:reluThenPool:)`.
        case bnReLUPool(BatchNorm, MaxPool, first: Int)
        /// conv-pool, a Winograd convolution and a 2×2 pool (training and inference):
        /// `Conv2D.forward(_:training:thenPool:)`; backward runs the two layers' own.
        case convPool(Conv2D, MaxPool, first: Int)
        /// conv-bn, or conv-bn-relu (inference): the BN and ReLU in the GEMM's epilogue,
        /// `Conv2D.forward(_:then:relu:)`.
        case convBN(Conv2D, BatchNorm, relu: Bool)

        /// The index of the step's first layer (0 for convBN, which only inference runs).
        var first: Int {
            switch self {
            case let .layer(_, first), let .bnActivation(_, _, first), let .bnReLUPool(_, _, first), let .convPool(_, _, first): first
            case .convBN: 0
            }
        }
    }

    /// The steps of a training pass (forward in order, backward in reverse) and of inference.
    let training: [Step], inference: [Step]
    /// The index of the first layer with trained parameters (the layer count if none has any).
    /// Backward stops there: nothing before it has a gradient to take (a frozen whitening, the
    /// GELU after it), and the gradient of its input is never used.
    let firstTrained: Int

    init(_ layers: [Layer]) {
        training = FusionPlan.steps(layers, training: true)
        inference = FusionPlan.steps(layers, training: false)
        firstTrained = layers.firstIndex { !$0.params.isEmpty } ?? layers.count
        // Backward relies on it: a step that began before the first trained layer would be skipped whole.
        precondition(firstTrained == layers.count || training.contains { $0.first == firstTrained },
                     "the first trained layer must begin a step")
        // A convolution before a BN need not sum its bias gradient: the BN cancels any bias.
        for (conv, next) in zip(layers, layers.dropFirst()) { (conv as? Conv2D)?.feedsBatchNorm = next is BatchNorm }
    }

    /// Greedy from the first layer: the longest fusion that starts at each layer.
    static func steps(_ layers: [Layer], training: Bool) -> [Step] {
        var steps = [Step](), i = 0
        func at(_ k: Int) -> Layer? { k < layers.count ? layers[k] : nil }
        while i < layers.count {
            // The activation after a BN, if it is one the BN kernels fuse.
            let activation: BatchNorm.Activation? = at(i + 1) is ReLU ? .relu : at(i + 1) is GELU ? .gelu : nil
            if let conv = at(i) as? Conv2D, conv.usesWinograd, let pool = at(i + 1) as? MaxPool, pool.size == 2 {
                steps.append(.convPool(conv, pool, first: i))
                i += 2
            } else if !training, let conv = at(i) as? Conv2D, let bn = at(i + 1) as? BatchNorm {
                let relu = at(i + 2) is ReLU
                steps.append(.convBN(conv, bn, relu: relu))
                i += relu ? 3 : 2
            } else if training, activation == .relu, let bn = at(i) as? BatchNorm, let pool = at(i + 2) as? MaxPool, pool.size == 2 {
                steps.append(.bnReLUPool(bn, pool, first: i))
                i += 3
            } else if let bn = at(i) as? BatchNorm, let activation {
                steps.append(.bnActivation(bn, activation, first: i))
                i += 2
            } else {
                steps.append(.layer(layers[i], first: i))
                i += 1
            }
        }
        return steps
    }
}
