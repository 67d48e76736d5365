import LE4Data

/// A layer type that a network spec can name. Each type owns its token: which names are its,
/// its lines of `Network.grammar`, and how a token builds it. `Network.layerTypes` lists them;
/// adding a layer type is its file and one line there.
public protocol SpecLayer: Layer {
    /// The type's lines of the grammar: the token's syntax padded to column 29, then what it is.
    static var grammar: String { get }
    /// The type's lines of the grammar's option list, or "" when it takes no option.
    static var optionGrammar: String { get }
    /// Whether `name` (a token's text before its first ':') is this type's.
    static func names(_ name: String) -> Bool
    /// The layers one token builds (`fc` after an image builds a Flatten first). Takes the
    /// options it knows from `token`; the network rejects any left over.
    static func build(_ token: inout LayerToken) throws -> [Layer]
}

public extension SpecLayer {
    static var optionGrammar: String { "" }
}

/// One token of a network spec while the network is built: the layer's name and options, the
/// shape coming in, and what building draws on (the weights' random numbers, the weight budget).
/// The helpers turn a bad token into an error that names the layer and quotes the spec.
public struct LayerToken {
    /// The token's text before its first ':' (`conv64`, `bn`).
    public let name: String
    /// The options after ':' not yet taken by the layer (`noscale`, `momentum=0.4`).
    var options: [String]
    /// The input shape without the batch dimension: [C, H, W], or [N] after an affine layer.
    public let shape: [Int]
    /// The token's position in the spec, from 0.
    public let index: Int
    /// The network's seed (dropout derives its masks' from it).
    public let seed: UInt64
    public let initializer: Initializer
    /// The weights' random numbers, drawn layer after layer.
    public var rng: SeededRNG
    /// Weights of the layers built so far, this one's included once `reserve` took them.
    private(set) var weights: Double
    private let token: String, spec: String

    init(_ token: String, index: Int, spec: String, shape: [Int], weights: Double, initializer: Initializer,
         seed: UInt64, rng: SeededRNG) {
        options = token.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        name = options.removeFirst()
        (self.token, self.index, self.spec, self.shape, self.weights) = (token, index, spec, shape, weights)
        (self.initializer, self.seed, self.rng) = (initializer, seed, rng)
    }

    /// An error naming this layer, its token and the spec, with the grammar.
    public func bad(_ why: String) -> NetError {
        NetError("layer \(index + 1) \(quote(token)) of \(quote(spec)): \(why)\n" + Network.grammar)
    }

    /// The number after `prefix` in the name (`fc` of `fc10` gives 10), if it is 1 to 65536: sizes
    /// are bounded so that a typo can neither overflow a shape nor exhaust memory.
    public func number(after prefix: String) -> Int? {
        Int(name.dropFirst(prefix.count)).flatMap { (1 ... 65536).contains($0) ? $0 : nil }
    }

    /// Takes the option `option` (`nobias`): whether it was given.
    public mutating func flag(_ option: String) -> Bool {
        guard let k = options.firstIndex(of: option) else { return false }
        options.remove(at: k)
        return true
    }

    /// Takes the option `key=value`, or gives `d` without it; `range` says in words what `valid` accepts.
    public mutating func value(_ key: String, default d: Float, valid: (Float) -> Bool, range: String) throws -> Float {
        guard let k = options.firstIndex(where: { $0.hasPrefix(key + "=") }) else { return d }
        let text = options.remove(at: k).dropFirst(key.count + 1)
        guard let v = Float(text), v.isFinite, valid(v) else { throw bad("option \(key) must be \(range), not \(quote(String(text)))") }
        return v
    }

    /// Throws unless the input is an image of at least d×d.
    public func requireImage(atLeast d: Int) throws {
        guard shape.count == 3, shape[1] >= d, shape[2] >= d else { throw bad("needs an image input of at least \(d)×\(d), has \(shape)") }
    }

    /// Counts `n` more weights, throwing past `Network.maxWeights`: called before allocating
    /// them, since a few bytes of spec (or of a model file's architecture) can name gigabytes.
    public mutating func reserve(weights n: Double) throws {
        weights += n
        guard weights <= Network.maxWeights else {
            throw bad("the network would have \(Int(weights)) weights, more than the limit of 2^26 (256 MiB)")
        }
    }

    /// Throws when an option is left over: unknown to the layer, or given twice.
    func checkOptionsTaken() throws {
        guard options.isEmpty else { throw bad("\(name) has no option \(quote(options[0])) (or it is repeated)") }
    }
}
