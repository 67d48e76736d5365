import LE4Data

/// Mixup (Zhang et al. 2017): image i is mixed with partner π(i), π a random permutation of the
/// batch, with its own λᵢ ~ Beta(α, α): xᵢ' = λᵢ xᵢ + (1-λᵢ) x_π(i), and the targets likewise.
/// Both come from the original (pre-mixup) batch, so the result does not depend on order.
/// π comes from the batch's stream, λᵢ from image i's.
struct Mixup: BatchAugmentation {
    static let name = "mixup"
    static let summary = "blend pairs of images and their targets, per batch"
    static let parameters: [Parameter<Mixup>] = [.real("alpha", \.alpha, in: .above(0))]

    var alpha: Double

    static func defaults(for g: ImageGeometry) -> Mixup { Mixup(alpha: 0.2) }

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

    func apply(x: UnsafeMutableBufferPointer<Float>, targets: UnsafeMutableBufferPointer<Float>,
               batch: Int, classes: Int, geometry g: ImageGeometry, scratch: inout BatchScratch,
               stream: (UInt64) -> SeededRNG) {
        let n = g.count
        scratch.reserve(batch: batch, n: n, classes: classes)
        scratch.images.withUnsafeMutableBufferPointer { images in
            scratch.targets.withUnsafeMutableBufferPointer { labels in
                scratch.order.withUnsafeMutableBufferPointer { perm in
                    let x0 = x.baseAddress!, i0 = images.baseAddress!
                    i0.update(from: x0, count: batch * n)
                    // Targets may be absent (classes == 0); then only the images are mixed.
                    let t0 = classes > 0 ? targets.baseAddress : nil, l0 = classes > 0 ? labels.baseAddress : nil
                    if let t0, let l0 { l0.update(from: t0, count: batch * classes) }
                    let order = UnsafeMutableBufferPointer(rebasing: perm[0..<batch])
                    var r = stream(Augmenter.batchStream)
                    Self.drawPermutation(into: order, rng: &r)
                    for i in 0..<batch {
                        var ri = stream(UInt64(i))
                        let lambda = drawLambda(&ri), j = order[i]
                        Self.mix(lambda, i0 + i * n, i0 + j * n, into: x0 + i * n, count: n)
                        if let t0, let l0 {
                            Self.mix(lambda, l0 + i * classes, l0 + j * classes, into: t0 + i * classes, count: classes)
                        }
                    }
                }
            }
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
