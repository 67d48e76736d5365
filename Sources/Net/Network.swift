import Foundation
import LE4Data

/// A network: layers in sequence, described by a text spec such as
/// `conv32-bn-relu-pool-conv64-bn-relu-pool-fc128-bn-relu-drop0.5-fc10`.
public final class Network {
    /// Input shape without the batch dimension: [C, H, W].
    public let inputShape: [Int]
    public let classes: Int
    public let layers: [Layer]
    /// Canonical spec (presets expanded).
    public let spec: String

    /// Named presets: what they expand to, what they are for, and the images they are built for
    /// (`bench` takes its input shape from it).
    public static let presets: [(name: String, spec: String, about: String, images: Dataset)] = [
        ("mlp", "fc100-sigmoid-fc10", "the course's 3-layer net, 784 → M sigmoid → 10 (mlp80: M = 80)", .mnist),
        ("mnist-small", "conv32-bn-relu-pool-conv64-bn-relu-pool-fc128-bn-relu-drop0.5-fc10",
         "two conv blocks for 28×28 digits", .mnist),
        ("cifar-small", "conv32-bn-relu-conv32-bn-relu-pool-conv64-bn-relu-conv64-bn-relu-pool-conv128-bn-relu-conv128-bn-relu-pool-fc10",
         "three double-conv blocks for 32×32 colour images", .cifar10),
        ("digits", "conv32-bn-relu-conv32-bn-relu-pool-conv64-bn-relu-conv64-bn-relu-pool-fc256-bn-relu-drop0.4-fc10",
         "VGG-style double convs and a wider head, the contest's member net", .mnist),
        ("cifar-fast", airbench94, "airbench94 for 32×32 colour images; train uses its recipe", .cifar10),
    ]

    /// airbench94 (Jordan 2024, arXiv 2404.00498): patch whitening, three blocks
    /// conv-pool-BN-GELU-conv-BN-GELU of widths 64, 256, 256, a 3×3 max pool (the whole 3×3 map
    /// left), fc10 without bias with logits × 1/9. Its convolutions have no bias and start with
    /// identity filters; its BNs have no scale and running statistics that keep 0.6 of the old.
    static let airbench94: String = {
        let bn = "bn:noscale:momentum=0.4"
        func block(_ width: Int) -> String {
            "conv\(width):dirac:nobias-pool-\(bn)-gelu-conv\(width):dirac:nobias-\(bn)-gelu"
        }
        return "whiten-gelu-" + [64, 256, 256].map(block).joined(separator: "-") + "-pool3-fc10:nobias:scale=0.11111111"
    }()

    /// The layer types a spec can name, in the grammar's order: adding one is its file and a line here.
    static let layerTypes: [any SpecLayer.Type] = [
        Conv2D.self, BatchNorm.self, ReLU.self, Sigmoid.self, GELU.self, SiLU.self, MaxPool.self, AvgPool.self,
        Dropout.self, PatchWhitening.self, Affine.self, Flatten.self,
    ]

    /// The grammar, for `--help` and errors: the layer types' own lines, then the presets.
    public static let grammar = """
    A network is layer tokens joined by '-', or a preset name:
    \(layerTypes.map { $0.grammar }.joined(separator: "\n"))
    Options follow a token after ':', e.g. bn:noscale:momentum=0.4:
    \(layerTypes.map { $0.optionGrammar }.filter { !$0.isEmpty }.joined(separator: "\n"))
    Presets:
    \(presets.map { "  \($0.name): \($0.about)\n" + helpLines($0.spec, indent: 4) }.joined(separator: "\n"))
    """

    /// `spec` broken after a '-' into indented lines that fit 80-column help.
    static func helpLines(_ spec: String, indent: Int) -> String {
        var lines = [String](), line = ""
        for token in spec.split(separator: "-") {
            if !line.isEmpty && indent + line.count + 1 + token.count > 78 { lines.append(line + "-"); line = "" }
            line += (line.isEmpty ? "" : "-") + token
        }
        lines.append(line)
        return lines.map { String(repeating: " ", count: indent) + $0 }.joined(separator: "\n")
    }

    /// Expands a preset name (or returns the spec unchanged).
    public static func expand(_ spec: String) -> String {
        if spec.hasPrefix("mlp"), let m = Int(spec.dropFirst(3)), m > 0 { return "fc\(m)-sigmoid-fc10" }
        return presets.first { $0.name == spec }?.spec ?? spec
    }

    /// The preset a canonical spec is (`mlp80` for `fc80-sigmoid-fc10`), or nil: the inverse of `expand`.
    public static func presetName(of spec: String) -> String? {
        if let name = presets.first(where: { $0.spec == spec })?.name { return name }
        guard spec.hasPrefix("fc"), spec.hasSuffix("-sigmoid-fc10"), let m = Int(spec.dropFirst(2).dropLast(13)), m > 0 else { return nil }
        return "mlp\(m)"
    }

    /// Builds a network for inputs [C, H, W] and `classes` outputs; `seed` fixes the initial weights.
    public init(spec text: String, inputShape: [Int], classes: Int, initializer: Initializer = .he, seed: UInt64) throws {
        let spec = Network.expand(text)
        guard inputShape.count == 3, inputShape.allSatisfy({ (1 ... 4096).contains($0) }), (1 ... 65536).contains(classes) else {
            throw NetError("input shape \(inputShape) with \(classes) classes is not supported (each dimension 1 to 4096)")
        }
        var rng = SeededRNG(seed: seed, stream: [0x1417])
        var shape = inputShape
        var layers = [Layer]()
        let tokens = spec.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard !spec.isEmpty else { throw NetError("empty network spec\n" + Network.grammar) }
        if let k = tokens.firstIndex(of: "") {
            throw NetError("\(quote(spec)): layer \(k + 1) is empty (a '-' too many at the start, the end or in between)\n" + Network.grammar)
        }
        guard tokens.count <= Network.maxLayers else {
            throw NetError("a network has at most \(Network.maxLayers) layers; this spec has \(tokens.count)")
        }
        // One image's activations are bounded as the layers are built (each token bounds its weights
        // in `LayerToken.reserve`), before anything large is allocated.
        var weights = 0.0, activations = 0.0
        for (i, tok) in tokens.enumerated() {
            var token = LayerToken(tok, index: i, spec: spec, shape: shape, weights: weights, initializer: initializer,
                                   seed: seed, rng: rng)
            guard let type = Network.layerTypes.first(where: { $0.names(token.name) }) else { throw token.bad("unknown layer") }
            let built = try type.build(&token)
            try token.checkOptionsTaken()
            (rng, weights) = (token.rng, token.weights)
            shape = built.reduce(shape) { $1.outputShape($0) }
            guard shape.allSatisfy({ $0 >= 1 }) else { throw token.bad("gives output \(shape): no pixels left") }
            activations += Double(shape.reduce(1, *))
            guard activations <= Network.maxActivationsPerImage else {
                throw token.bad("one image's activations would reach \(Int(activations)) floats, more than the limit of 2^26 (256 MiB)")
            }
            layers += built
        }
        guard shape == [classes], layers.last is Affine else {
            throw NetError("\(quote(spec)) ends with output \(shape); its last layer must be fc\(classes) for \(classes) classes\n" + Network.grammar)
        }
        self.inputShape = inputShape
        self.classes = classes
        self.layers = layers
        plan = FusionPlan(layers)
        self.spec = spec
        activationsPerImage = Int(activations)
        for (i, l) in layers.enumerated() { for p in l.params + l.buffers { p.name = "\(i).\(l.spec).\(p.name)" } }
    }

    /// The most weights a network may have (256 MiB of Float, 128 times cifar-fast's), layers it
    /// may have, and floats of activations (layer outputs) one image may take (256 MiB).
    static let maxWeights = Double(1 << 26), maxLayers = 1000, maxActivationsPerImage = Double(1 << 26)

    /// Floats of layer outputs one image takes on its way through the network.
    public let activationsPerImage: Int

    /// About how many bytes training at `batch` takes: each layer's output, the copy it keeps for
    /// backward and its gradient, per image; each parameter's value, gradient and two optimizer
    /// states. Callers compare it with the machine's memory before allocating.
    public func trainingBytes(batch: Int) -> Double {
        4 * (3 * Double(batch) * Double(activationsPerImage) + 4 * Double(parameterCount))
    }

    /// Throws when training at `batch` would need more than 80 % of the memory this process may
    /// use (the machine's, or less under `ulimit -v`): said before allocating, instead of the
    /// process being killed midway.
    public func checkMemory(batch: Int) throws {
        let need = trainingBytes(batch: batch), have = Network.usableMemory
        guard need <= 0.8 * have else {
            let gb = { (b: Double) in String(Int((b / 1e9).rounded(.up))) }
            throw NetError("training \(quote(spec)) at batch \(batch) needs about \(gb(need)) GB of memory; "
                           + "this process may use \(gb(have)) GB: choose a smaller --batch or network")
        }
    }

    /// Physical memory, or the address-space limit if lower.
    static var usableMemory: Double {
        var memory = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max { memory = min(memory, Double(limit.rlim_cur)) }
        return memory
    }

    public var params: [Param] { layers.flatMap(\.params) }
    public var buffers: [Param] { layers.flatMap(\.buffers) }
    public var parameterCount: Int { params.reduce(0) { $0 + $1.value.count } }

    /// The name of the first parameter or BN statistic holding a NaN or an infinity, if any.
    /// The loss can stay finite while weights overflow, and such a network answers one class for
    /// every image: it must be neither saved nor used.
    public var firstNonFiniteArray: String? {
        (params + buffers).first { !$0.value.allSatisfy(\.isFinite) }?.name
    }

    /// Floating-point operations of one image's forward pass through the convolutions and affine
    /// layers, counted as direct convolution computes them (2·K·C·R·R per output pixel), whatever
    /// algorithm runs: the yardstick of "effective GFLOP/s". A training step is about 3×.
    public var forwardFLOPs: Double {
        var shape = inputShape, total = 0.0
        for layer in layers {
            total += layer.forwardFLOPs(input: shape)
            shape = layer.outputShape(shape)
        }
        return total
    }

    // x: [B, C, H, W] → logits: [B, classes]
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { return pass(x, training: true) }
        guard x.batch > Network.inferenceSlice else { return pass(x, training: false) }
        // Inference of a large batch goes slice by slice: each layer's output then stays in cache
        // for the next layer (a 1000-image batch of conv32 outputs alone is 100 MB).
        var out = [Float](), shape = [Int]()
        for start in stride(from: 0, to: x.batch, by: Network.inferenceSlice) {
            let n = min(Network.inferenceSlice, x.batch - start)
            let y = pass(Tensor(shape: [n] + x.shape.dropFirst(), data: Array(x.data[start * x.itemSize ..< (start + n) * x.itemSize])), training: false)
            out += y.data
            shape = y.shape
        }
        shape[0] = x.batch
        return Tensor(shape: shape, data: out)
    }

    /// Images per slice of a large inference batch.
    static let inferenceSlice = 100

    /// Which layers run fused, in training and at inference.
    let plan: FusionPlan

    /// The forward pass, step by step of the plan.
    func pass(_ x: Tensor, training: Bool) -> Tensor {
        var x = x
        for step in training ? plan.training : plan.inference {
            switch step {
            case let .layer(layer, _): x = layer.forward(x, training: training)
            case let .bnActivation(bn, activation, _): x = bn.forward(x, training: training, then: activation)
            case let .bnReLUPool(bn, pool, _): x = bn.forward(x, reluThenPool: pool)
            case let .convBN(conv, bn, relu): x = conv.forward(x, then: bn, relu: relu)
            case let .convPool(conv, pool, _): x = conv.forward(x, training: training, thenPool: pool)
            }
        }
        return x
    }

    /// Backpropagates the gradient of the logits, filling every parameter's `grad`: the training
    /// plan's steps in reverse, fused as the forward pass ran them.
    public func backward(_ dLogits: Tensor) {
        var g = dLogits
        for step in plan.training.reversed() where step.first >= plan.firstTrained {
            let needInputGrad = step.first > plan.firstTrained
            switch step {
            case let .layer(layer, _): g = layer.backward(g, needInputGrad: needInputGrad)
            case let .bnActivation(bn, activation, _): g = bn.backward(g, needInputGrad: needInputGrad, then: activation)
            case let .bnReLUPool(bn, pool, _): g = bn.backward(g, needInputGrad: needInputGrad, reluThenPool: pool)
            case let .convPool(conv, pool, _): g = conv.backward(pool.backward(g, needInputGrad: true), needInputGrad: needInputGrad)
            case .convBN: preconditionFailure("conv-bn fuses at inference only")
            }
        }
    }

    /// Images `indices` of `set` as network input: [B, C, H, W], pixels scaled to [0, 1].
    public static func input<Indices: Collection<Int>>(_ set: ImageSet, indices: Indices) -> Tensor {
        let n = set.imageSize
        return Tensor(uninitialized: [indices.count, set.channels, set.height, set.width]) { x in
            set.pixels.withUnsafeBufferPointer { px in
                for (row, image) in indices.enumerated() {
                    let src = image * n, dst = row * n
                    for i in 0 ..< n { x[dst + i] = Float(px[src + i]) * (1 / 255) }
                }
            }
        }
    }

    /// Pixels of network input values: `input`'s inverse, ×255, rounded and clamped to 0...255
    /// (augmented values may leave [0, 1]). For images a batch shows: previews, distorted sets.
    public static func pixels<Values: Collection<Float>>(_ x: Values) -> [UInt8] {
        x.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }
    }

    /// Class probabilities [N, classes] for a whole set, in batches.
    public func probabilities(_ set: ImageSet, batch: Int = 1000) -> [Float] {
        var out = [Float](); out.reserveCapacity(set.count * classes)
        for start in stride(from: 0, to: set.count, by: batch) {
            let x = Network.input(set, indices: start ..< min(set.count, start + batch))
            out += SoftmaxCrossEntropy.softmax(forward(x, training: false)).data
        }
        return out
    }
}

extension Optional {
    func orThrow(_ e: @autoclosure () -> Error) throws -> Wrapped {
        guard let v = self else { throw e() }
        return v
    }
}
