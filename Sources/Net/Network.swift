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

    /// The grammar, for `--help` and errors.
    public static let grammar = """
    A network is layer tokens joined by '-', or a preset name:
      conv<K>[x<R>][s<S>][p<P>]  convolution: K filters R×R (default 3),
                                 stride S (default 1), padding P (default R/2)
      bn                         batch normalization (per channel after conv,
                                 per feature after fc)
      relu | sigmoid | gelu      activations (gelu exact: x·Φ(x))
      pool[<d>]                  max pooling d×d, stride d (default 2)
      avgpool<d> | gap           average pooling d×d; global average pooling
      drop<r>                    dropout with ratio r, e.g. drop0.5
      whiten[<R>]                frozen R×R patch-whitening convolution
                                 (default 2; 2·C·R² filters, padding 0),
                                 fitted to training images before training
      fc<N>                      affine layer with N outputs (flattens its
                                 input); the last must be fc<classes>
    Options follow a token after ':', e.g. bn:noscale:momentum=0.4:
      conv :dirac                the first min(K, C) filters start as identity
      conv, fc :nobias           no bias
      bn :noscale                γ fixed at 1, only β trained
      bn :momentum=<m>           weight of the newest batch in the running
                                 statistics (default 0.1)
      fc :scale=<s>              outputs multiplied by s
      whiten :eps=<e>            ε added to each eigenvalue, relative to the
                                 mean patch variance (default 0.0005)
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
        // The whole network's weights and one image's activations are bounded before anything is
        // allocated: a few bytes of spec (or of a model file's architecture) can name gigabytes.
        var weights = 0.0, activations = 0.0
        func addWeights(_ n: Double, _ bad: (String) -> NetError) throws {
            weights += n
            guard weights <= Network.maxWeights else {
                throw bad("the network would have \(Int(weights)) weights, more than the limit of 2^26 (256 MiB)")
            }
        }
        for (i, tok) in tokens.enumerated() {
            // Sizes are bounded so that a typo cannot overflow a shape or exhaust memory.
            // Options follow the layer's name after ':', e.g. bn:noscale:momentum=0.4; each is taken
            // by the layer that knows it, and any left over is an error.
            var options = tok.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let name = options.removeFirst()
            func number(after prefix: String) -> Int? { Int(name.dropFirst(prefix.count)).flatMap { (1 ... 65536).contains($0) ? $0 : nil } }
            func bad(_ why: String) -> NetError { NetError("layer \(i + 1) \(quote(tok)) of \(quote(spec)): \(why)\n" + Network.grammar) }
            func flag(_ option: String) -> Bool {
                guard let k = options.firstIndex(of: option) else { return false }
                options.remove(at: k)
                return true
            }
            func value(_ key: String, default d: Float, valid: (Float) -> Bool, range: String) throws -> Float {
                guard let k = options.firstIndex(where: { $0.hasPrefix(key + "=") }) else { return d }
                let text = options.remove(at: k).dropFirst(key.count + 1)
                guard let v = Float(text), v.isFinite, valid(v) else { throw bad("option \(key) must be \(range), not \(quote(String(text)))") }
                return v
            }
            let layer: Layer
            if name == "bn" {
                let scaled = !flag("noscale")
                let momentum = try value("momentum", default: BatchNorm.defaultMomentum, valid: { $0 > 0 && $0 <= 1 }, range: "in (0, 1]")
                layer = BatchNorm(channels: shape[0], scaled: scaled, momentum: momentum)
            } else if name == "relu" {
                layer = ReLU()
            } else if name == "gelu" {
                layer = GELU()
            } else if name == "sigmoid" {
                layer = Sigmoid()
            } else if name == "flatten" {
                layer = Flatten()
            } else if name == "gap" {
                guard shape.count == 3 else { throw bad("global average pooling needs an image input") }
                layer = AvgPool(global: true)
            } else if name.hasPrefix("whiten") {
                let r = name == "whiten" ? 2 : number(after: "whiten") ?? 0
                guard r > 0 else { throw bad("expected whiten or whiten<R>") }
                guard shape.count == 3, shape[1] >= r, shape[2] >= r else { throw bad("needs an image input of at least \(r)×\(r), has \(shape)") }
                try addWeights(2 * Double(shape[0] * r * r) * Double(shape[0] * r * r), bad)
                let eps = try value("eps", default: PatchWhitening.defaultEpsilon, valid: { $0 > 0 && $0 <= 1 }, range: "in (0, 1]")
                layer = PatchWhitening(inChannels: shape[0], size: r, epsilon: eps, rng: &rng)
            } else if name.hasPrefix("avgpool") {
                guard let d = number(after: "avgpool"), d > 0 else { throw bad("expected avgpool<d>") }
                guard shape.count == 3, shape[1] >= d, shape[2] >= d else { throw bad("needs an image input of at least \(d)×\(d), has \(shape)") }
                layer = AvgPool(size: d)
            } else if name.hasPrefix("pool") {
                let d = name == "pool" ? 2 : number(after: "pool") ?? 0
                guard d > 0 else { throw bad("expected pool or pool<d>") }
                guard shape.count == 3, shape[1] >= d, shape[2] >= d else { throw bad("needs an image input of at least \(d)×\(d), has \(shape)") }
                layer = MaxPool(size: d)
            } else if name.hasPrefix("drop") {
                guard let r = Float(name.dropFirst(4)), r >= 0, r < 1 else { throw bad("expected drop<r> with 0 ≤ r < 1") }
                layer = Dropout(ratio: r, seed: seed &+ UInt64(i))
            } else if name.hasPrefix("fc") {
                guard let n = number(after: "fc"), n > 0 else { throw bad("expected fc<N>") }
                let bias = !flag("nobias")
                let scale = try value("scale", default: 1, valid: { $0 > 0 }, range: "a number > 0")
                try addWeights(Double(shape.reduce(1, *)) * Double(n), bad)
                if shape.count > 1 { layers.append(Flatten()); shape = [shape.reduce(1, *)] }
                layer = Affine(inputs: shape[0], outputs: n, initializer: initializer, rng: &rng, bias: bias, scale: scale)
            } else if name.hasPrefix("conv") {
                let (k, r, s, p) = try Network.parseConv(name).orThrow(bad("expected conv<K>[x<R>][s<S>][p<P>]"))
                guard shape.count == 3 else { throw bad("convolution needs an image input, has \(shape)") }
                let pad = p ?? r / 2
                try addWeights(Double(shape[0]) * Double(r * r) * Double(k), bad)
                // Padding could make room for a larger filter, but such a layer mostly multiplies zeros.
                guard shape[1] >= r, shape[2] >= r else { throw bad("filter \(r)×\(r) is larger than its input \(shape)") }
                layer = Conv2D(inChannels: shape[0], filters: k, size: r, stride: s, pad: pad, initializer: initializer, rng: &rng,
                               dirac: flag("dirac"), bias: !flag("nobias"))
            } else {
                throw bad("unknown layer")
            }
            guard options.isEmpty else { throw bad("\(name) has no option \(quote(options[0])) (or it is repeated)") }
            shape = layer.outputShape(shape)
            guard shape.allSatisfy({ $0 >= 1 }) else { throw bad("gives output \(shape): no pixels left") }
            activations += Double(shape.reduce(1, *))
            guard activations <= Network.maxActivationsPerImage else {
                throw bad("one image's activations would reach \(Int(activations)) floats, more than the limit of 2^26 (256 MiB)")
            }
            layers.append(layer)
        }
        guard shape == [classes], layers.last is Affine else {
            throw NetError("\(quote(spec)) ends with output \(shape); its last layer must be fc\(classes) for \(classes) classes\n" + Network.grammar)
        }
        self.inputShape = inputShape
        self.classes = classes
        self.layers = layers
        for (conv, next) in zip(layers, layers.dropFirst()) { (conv as? Conv2D)?.feedsBatchNorm = next is BatchNorm }
        self.spec = spec
        activationsPerImage = Int(activations)
        for (i, l) in layers.enumerated() { for p in l.params + l.buffers { p.name = "\(i).\(l.spec).\(p.name)" } }
    }

    static func parseConv(_ tok: String) -> (Int, Int, Int, Int?)? {
        var rest = Substring(tok.dropFirst(4))
        func num() -> Int? {
            let d = rest.prefix(while: \.isNumber)
            rest = rest.dropFirst(d.count)
            return Int(d).flatMap { $0 <= 65536 ? $0 : nil }
        }
        guard let k = num(), k > 0 else { return nil }
        var r = 3, s = 1
        var p: Int?
        while let c = rest.first {
            rest = rest.dropFirst()
            guard let v = num() else { return nil }
            switch c {
            case "x": guard v > 0 else { return nil }; r = v
            case "s": guard v > 0 else { return nil }; s = v
            case "p": p = v
            default: return nil
            }
        }
        return (k, r, s, p)
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
            let out = layer.outputShape(shape)
            if let c = layer as? Conv2D { total += 2 * Double(c.filters * c.inChannels * c.size * c.size * out[1] * out[2]) }
            if let a = layer as? Affine { total += 2 * Double(a.inputs * a.outputs) }
            shape = out
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

    /// Whether layer i is a BN that runs with the ReLU after it as one step (training and inference).
    func fusesReLU(at i: Int) -> Bool { layers[i] is BatchNorm && i + 1 < layers.count && layers[i + 1] is ReLU }

    /// Whether layer i is a BN that trains with the ReLU and the 2×2 max pool after it as one step.
    func fusesReLUAndPool(at i: Int) -> Bool { fusesReLU(at: i) && i + 2 < layers.count && (layers[i + 2] as? MaxPool)?.size == 2 }

    /// The forward pass layer by layer, except that bn-relu runs as one step, in training
    /// bn-relu-pool too (`BatchNorm.forward(_:reluThenPool:)`), and at inference conv-bn and
    /// conv-bn-relu (`Conv2D.forward(_:then:relu:)`).
    func pass(_ x: Tensor, training: Bool) -> Tensor {
        var x = x, i = 0
        while i < layers.count {
            if !training, let conv = layers[i] as? Conv2D, i + 1 < layers.count, let bn = layers[i + 1] as? BatchNorm {
                let relu = fusesReLU(at: i + 1)
                x = conv.forward(x, then: bn, relu: relu)
                i += relu ? 3 : 2
            } else if training, fusesReLUAndPool(at: i), let bn = layers[i] as? BatchNorm, let pool = layers[i + 2] as? MaxPool {
                x = bn.forward(x, reluThenPool: pool)
                i += 3
            } else if fusesReLU(at: i), let bn = layers[i] as? BatchNorm {
                x = bn.forward(x, training: training, relu: true)
                i += 2
            } else {
                x = layers[i].forward(x, training: training)
                i += 1
            }
        }
        return x
    }

    /// Backpropagates the gradient of the logits, filling every parameter's `grad`; bn-relu and
    /// bn-relu-pool steps as the training forward pass ran them.
    public func backward(_ dLogits: Tensor) {
        var g = dLogits, i = layers.count - 1
        while i >= 0 {
            if i > 1, fusesReLUAndPool(at: i - 2), let bn = layers[i - 2] as? BatchNorm, let pool = layers[i] as? MaxPool {
                g = bn.backward(g, needInputGrad: i - 2 > 0, reluThenPool: pool)
                i -= 3
            } else if i > 0, fusesReLU(at: i - 1), let bn = layers[i - 1] as? BatchNorm {
                g = bn.backward(g, needInputGrad: i - 1 > 0, relu: true)
                i -= 2
            } else {
                g = layers[i].backward(g, needInputGrad: i > 0)
                i -= 1
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
