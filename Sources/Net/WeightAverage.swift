/// An exponential moving average of a network's trainable parameters (weight EMA, Polyak
/// averaging), kept in a second network of the same architecture so that it is validated, saved
/// and answered with like any model.
///
/// After every optimizer step each averaged value moves toward the trained one:
/// avg ← d_t·avg + (1 − d_t)·w, with d_t = min(d, (1 + t)/(10 + t)) and t the updates before.
/// The warm-up (TensorFlow's `ExponentialMovingAverage` with `num_updates`) matters for short
/// runs: with a constant 0.999 the random initial weights would still weigh e⁻¹ ≈ 37 % after
/// 1,000 steps. With it the average spans roughly the last ninth of the steps taken (1/(1 − d_t) ≈ t/9)
/// until d_t reaches d, after (10d − 1)/(1 − d) steps: 890 for 0.99, 8,990 for 0.999.
///
/// Only γ and β of batch normalization are averaged. Its running mean and variance describe the
/// activations of the trained weights, which the averaged ones do not produce: they are
/// recomputed for the averaged weights by `network.recomputeBatchStatistics`, before each use.
public final class WeightAverage {
    /// d: the decay once the warm-up is over.
    public let decay: Float
    /// The averaged copy. Its parameters hold the average; its BN running statistics are those of
    /// the last `recomputeBatchStatistics` (until then, the trained network's at creation).
    public let network: Network
    /// Updates so far: t of the warm-up.
    public private(set) var updates = 0
    /// The trained network's parameters and their averages, in the same order.
    private let trained: [Param], averaged: [Param]

    /// Starts the average at `net`'s current weights. `decay` must be in [0, 1).
    public init(of net: Network, decay: Float) throws {
        guard decay >= 0, decay < 1 else { throw NetError("the weight average's decay must be in [0, 1), got \(decay)") }
        self.decay = decay
        network = try Network(spec: net.spec, inputShape: net.inputShape, classes: net.classes, seed: 0)
        trained = net.params
        averaged = network.params
        for (a, p) in zip(averaged + network.buffers, trained + net.buffers) { a.value = p.value }
    }

    /// d_t: the decay of update `t` (0-based).
    public func decay(atUpdate t: Int) -> Float {
        min(decay, Float(1 + t) / Float(10 + t))
    }

    /// Moves the average toward the trained network's current weights; called after every optimizer step.
    public func update() {
        let d = decay(atUpdate: updates), w = 1 - d
        for (a, p) in zip(averaged, trained) {
            a.value.withUnsafeMutableBufferPointer { avg in
                p.value.withUnsafeBufferPointer { x in
                    // d·avg + (1 − d)·x rather than avg + (1 − d)(x − avg): with d = 0 it is exactly x.
                    for i in 0 ..< avg.count { avg[i] = d * avg[i] + w * x[i] }
                }
            }
        }
        updates += 1
    }

    /// The averages, one array per parameter, for checkpoints.
    public var values: [[Float]] { averaged.map(\.value) }

    /// Continues an average saved by a checkpoint: `values` as `values` returned them.
    public func restore(updates: Int, values: [[Float]]) throws {
        guard updates >= 0, values.count == averaged.count, zip(values, averaged).allSatisfy({ $0.count == $1.value.count }) else {
            throw NetError("the saved weight average does not fit \(network.spec)")
        }
        self.updates = updates
        for (a, v) in zip(averaged, values) { a.value = v }
    }
}
