import LE4Data

/// Dropout with ratio ρ. This is inverted dropout: while training, kept outputs are scaled by
/// 1/(1−ρ), so inference is the identity. The course instead scales by (1−ρ) at test time;
/// both give the same expected output, and this one makes inference free.
public final class Dropout: Layer {
    public let ratio: Float
    private let seed: UInt64
    private var mask = [Float]()
    /// Training passes so far. Mask n comes from its own stream, so a resumed run (which sets
    /// this to the trainer's step) draws the masks an uninterrupted run would.
    public var calls: UInt64 = 0

    public init(ratio: Float, seed: UInt64) {
        self.ratio = ratio
        self.seed = seed
    }

    public var spec: String { "drop\(ratio)" }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard training, ratio > 0 else { return x }
        let keep = 1 / (1 - ratio)
        var rng = SeededRNG(seed: seed, stream: [0xD50, calls])
        calls += 1
        mask = (0 ..< x.count).map { _ in rng.nextFloat() < ratio ? 0 : keep }
        return Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in for i in 0 ..< xp.count { y[i] = xp[i] * mask[i] } }
        }
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        guard ratio > 0 else { return dy }
        return Tensor(uninitialized: dy.shape) { dx in
            dy.data.withUnsafeBufferPointer { d in for i in 0 ..< d.count { dx[i] = d[i] * mask[i] } }
        }
    }
}

extension Dropout: SpecLayer {
    public static let grammar = "  drop<r>                    dropout with ratio r, e.g. drop0.5"
    public static func names(_ name: String) -> Bool { name.hasPrefix("drop") }

    /// Each dropout layer draws its masks from its own stream, told apart by the token's position.
    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        guard let r = Float(t.name.dropFirst(4)), r >= 0, r < 1 else { throw t.bad("expected drop<r> with 0 ≤ r < 1") }
        return [Dropout(ratio: r, seed: t.seed &+ UInt64(t.index))]
    }
}
