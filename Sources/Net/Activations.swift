import Foundation
import LE4Data

/// ReLU: y = max(x, 0); the gradient passes where x > 0 (course formula 25).
public final class ReLU: Layer {
    private var y = Tensor(zeros: [0])
    public init() {}
    public var spec: String { "relu" }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    // x: any shape → y: same
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let out = Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                Threads.parallelFor(xp.count, minChunk: 1 << 15) { r in
                    zeroWhereNotPositive(xp.baseAddress! + r.lowerBound, of: xp.baseAddress! + r.lowerBound,
                                              into: y.baseAddress! + r.lowerBound, count: r.count)
                }
            }
        }
        if training { y = out }
        return out
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(uninitialized: dy.shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                y.data.withUnsafeBufferPointer { yp in
                    Threads.parallelFor(d.count, minChunk: 1 << 15) { r in
                        zeroWhereNotPositive(d.baseAddress! + r.lowerBound, of: yp.baseAddress! + r.lowerBound,
                                                  into: dx.baseAddress! + r.lowerBound, count: r.count)
                    }
                }
            }
        }
    }
}

/// Sigmoid: y = 1 / (1 + e^(−x)); dy/dx = y(1 − y).
public final class Sigmoid: Layer {
    private var y = Tensor(zeros: [0])
    public init() {}
    public var spec: String { "sigmoid" }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let out = Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in for i in 0 ..< xp.count { y[i] = 1 / (1 + exp(-xp[i])) } }
        }
        if training { y = out }
        return out
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(uninitialized: dy.shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                y.data.withUnsafeBufferPointer { yp in for i in 0 ..< d.count { dx[i] = d[i] * yp[i] * (1 - yp[i]) } }
            }
        }
    }
}

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

/// Flatten: [B, C, H, W] → [B, C·H·W] (a view change only).
public final class Flatten: Layer {
    private var inputShape = [Int]()
    public init() {}
    public var spec: String { "flatten" }
    public func outputShape(_ input: [Int]) -> [Int] { [input.reduce(1, *)] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        return Tensor(shape: [x.batch, x.itemSize], data: x.data)
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(shape: inputShape, data: dy.data)
    }
}
