import LE4Data

/// Mixup (Zhang et al. 2017): image i is mixed with partner π(i), π a random permutation of the
/// batch, with its own λᵢ ~ Beta(α, α): xᵢ' = λᵢ xᵢ + (1-λᵢ) x_π(i), and the targets likewise.
/// Both come from the original (pre-mixup) batch, so the result does not depend on order.
struct Mixup: Equatable, Sendable {
    static let name = "mixup"
    static let keys = ["alpha"]

    var alpha: Double

    /// Canonical spelling, e.g. `mixup:alpha=0.2`.
    var spelling: String { "\(Self.name):alpha=\(alpha)" }

    /// λ for one image.
    func drawLambda(_ rng: inout SeededRNG) -> Float { Float(rng.beta(alpha, alpha)) }

    /// Fills `perm` with a uniformly random permutation of `0..<perm.count` (Fisher–Yates).
    static func drawPermutation(into perm: UnsafeMutableBufferPointer<Int>, rng: inout SeededRNG) {
        for k in perm.indices { perm[k] = k }
        guard perm.count > 1 else { return }
        for k in stride(from: perm.count - 1, to: 0, by: -1) {
            perm.swapAt(k, rng.int(below: k + 1))
        }
    }

    /// `dst[k] = λ a[k] + (1-λ) b[k]`, written as `b + λ(a - b)` so that a == b is kept exactly
    /// and values in [0, 1] stay in [0, 1]. `dst` may not overlap `a` or `b`.
    @inline(__always)
    static func mix(_ lambda: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                    into dst: UnsafeMutablePointer<Float>, count: Int) {
        for k in 0..<count { dst[k] = b[k] + lambda * (a[k] - b[k]) }
    }
}
