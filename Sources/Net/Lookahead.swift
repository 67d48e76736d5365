/// Lookahead as airbench94 runs it (Jordan 2024; Zhang et al. 2019): a second, slow copy of the
/// weights. Every k = 5 steps the slow copy moves toward the trained (fast) weights,
/// slow ← slow + (1 − d_t)·(fast − slow), and the fast weights restart from it; after the last step
/// the network keeps the slow weights. d_t = 0.95⁵·(t/T)³ for step t of T: near 0 early, so the
/// slow copy simply follows, and 0.77 at the end, when it averages the last steps' noise away.
/// BN's running statistics are averaged with the weights, as airbench's state dict is. The
/// optimizer's momentum is kept as it is.
public final class Lookahead {
    /// Steps between updates (airbench's `ema_update_freq`).
    public static let every = 5
    /// T: the run's steps.
    public let totalSteps: Int
    /// The network's parameters and buffers, and their slow copies, in the same order.
    private let fast: [Param]
    public private(set) var slow: [[Float]]

    /// Starts the slow copy at `net`'s current weights and statistics.
    public init(of net: Network, totalSteps: Int) {
        self.totalSteps = totalSteps
        fast = net.params + net.buffers
        slow = fast.map(\.value)
    }

    /// d_t for step t (1-based).
    public func decay(atStep t: Int) -> Float {
        let f = Float(t) / Float(max(1, totalSteps))
        return 0.95 * 0.95 * 0.95 * 0.95 * 0.95 * f * f * f
    }

    /// Called after step t (1-based) of the run: the update every k steps, and after the last step
    /// the fast weights become the slow ones.
    public func update(afterStep t: Int) {
        if t % Lookahead.every == 0 {
            let w = 1 - decay(atStep: t)
            for (k, p) in fast.enumerated() {
                slow[k].withUnsafeMutableBufferPointer { s in
                    p.value.withUnsafeMutableBufferPointer { x in
                        for i in 0 ..< s.count {
                            s[i] += w * (x[i] - s[i])
                            x[i] = s[i]
                        }
                    }
                }
            }
        }
        if t == totalSteps { for (k, p) in fast.enumerated() { p.value = slow[k] } }
    }

    /// Continues a slow copy saved by a checkpoint (`slow` as it was).
    public func restore(_ values: [[Float]]) throws {
        guard values.count == fast.count, zip(values, fast).allSatisfy({ $0.count == $1.value.count }) else {
            throw NetError("the saved lookahead weights do not fit the network")
        }
        slow = values
    }
}
