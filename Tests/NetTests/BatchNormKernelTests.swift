import XCTest
import Kernels
import LE4Data
@testable import Net

/// The batch-norm kernels (Kernels/batchnorm.c) against plain formulas in Double, for every
/// instruction set and fused activation, image by image as `BatchNorm` calls them, on runs shorter
/// than, equal to and across the 16-float vectors, with different arguments for every channel.
final class BatchNormKernelTests: XCTestCase {
    /// The standard normal distribution function and its density, GELU's parts.
    static func Phi(_ v: Double) -> Double { 0.5 * (1 + erf(v / 2.squareRoot())) }
    static func phi(_ v: Double) -> Double { exp(-v * v / 2) / (2 * Double.pi).squareRoot() }

    let shapes = [(3, 2, 5), (2, 3, 16), (4, 2, 37), (5, 3, 1)]  // (B, C, S)

    func testSumsNormalizeAndGradientsMatchTheFormulas() {
        var rng = SeededRNG(seed: 41)
        for (B, C, S) in shapes {
            let x = (0 ..< B * C * S).map { _ in Float(3 + 2 * rng.normal()) }
            let dy = (0 ..< B * C * S).map { _ in Float(rng.normal()) }
            // Per channel: its indices in x, its mean, 1/σ, γ, β and dx's a, b, c.
            let idx = (0 ..< C).map { c in (0 ..< B).flatMap { b in (0 ..< S).map { (b * C + c) * S + $0 } } }
            let mean = idx.map { i in i.reduce(0.0) { $0 + Double(x[$1]) } / Double(i.count) }
            let inv = (0 ..< C).map { c in 1 / (idx[c].reduce(0.0) { $0 + (Double(x[$1]) - mean[c]) * (Double(x[$1]) - mean[c]) } / Double(B * S) + 1e-5).squareRoot() }
            let (g, beta) = ((0 ..< C).map { 1.5 - Double($0) }, (0 ..< C).map { -0.4 + 0.3 * Double($0) })
            let (a, b, cc) = ((0 ..< C).map { 0.7 + 0.1 * Double($0) }, (0 ..< C).map { -0.2 * Double($0 + 1) }, (0 ..< C).map { 0.05 * Double($0) })
            let f = { (v: [Double]) in v.map(Float.init) }
            let shift = (0 ..< C).map { x[$0 * S] }
            for isa in ISA.supported {
                for activation in [BatchNorm.Activation.identity, .relu, .gelu] {
                    let tag = "\(isa.name) B\(B) C\(C) S\(S) \(activation)"
                    let r = activation.code
                    var (sum, squares) = ([Double](repeating: 0, count: C), [Double](repeating: 0, count: C))
                    var (sumDz, sumDzXhat) = (sum, sum)
                    var y = [Float](repeating: .nan, count: x.count), dx = y, dz = y
                    for n in 0 ..< B {
                        let o = n * C * S
                        isa.kernels.bn_sums(Array(x[o...]), C, S, shift, &sum, &squares)
                        isa.kernels.bn_normalize(Array(x[o...]), C, S, f(mean), f(inv), f(g), f(beta), r, &y[o])
                        isa.kernels.bn_gradient_sums(Array(dy[o...]), Array(x[o...]), C, S, f(mean), f(inv), f(g), f(beta), r,
                                                     &dz[o], &sumDz, &sumDzXhat)
                        // After a GELU, the input gradient reads the dz the sums wrote, in place.
                        if activation == .gelu {
                            dx.replaceSubrange(o ..< o + C * S, with: dz[o ..< o + C * S])
                            isa.kernels.bn_input_grad(Array(dx[o...]), Array(x[o...]), C, S, f(mean), f(inv), f(g), f(beta),
                                                      BatchNorm.Activation.identity.code, f(a), f(b), f(cc), &dx[o])
                        } else {
                            isa.kernels.bn_input_grad(Array(dy[o...]), Array(x[o...]), C, S, f(mean), f(inv), f(g), f(beta), r,
                                                      f(a), f(b), f(cc), &dx[o])
                        }
                    }
                    for c in 0 ..< C {
                        let d = idx[c].map { Double(x[$0]) - Double(shift[c]) }
                        XCTAssertEqual(sum[c], d.reduce(0, +), accuracy: 1e-4, tag)
                        XCTAssertEqual(squares[c], d.reduce(0) { $0 + $1 * $1 }, accuracy: 1e-4, tag)
                        let xhat = idx[c].map { (Double(x[$0]) - mean[c]) * inv[c] }
                        let out = xhat.map { g[c] * $0 + beta[c] }
                        let act: (Double) -> Double, slope: (Double) -> Double
                        switch activation {
                        case .identity: (act, slope) = ({ $0 }, { _ in 1 })
                        case .relu: (act, slope) = ({ max(0, $0) }, { $0 > 0 ? 1 : 0 })
                        case .gelu: (act, slope) = ({ $0 * Self.Phi($0) }, { Self.Phi($0) + $0 * Self.phi($0) })
                        }
                        let dz = idx[c].enumerated().map { k, i in Double(dy[i]) * slope(out[k]) }
                        XCTAssertEqual(sumDz[c], dz.reduce(0, +), accuracy: 1e-4, tag)
                        XCTAssertEqual(sumDzXhat[c], zip(dz, xhat).reduce(0) { $0 + $1.0 * $1.1 }, accuracy: 1e-4, tag)
                        for (k, i) in idx[c].enumerated() {
                            XCTAssertEqual(Double(y[i]), act(out[k]), accuracy: 1e-5, tag)
                            XCTAssertEqual(Double(dx[i]), a[c] * dz[k] + b[c] * xhat[k] + cc[c], accuracy: 1e-5, tag)
                        }
                    }
                }
            }
        }
    }

    /// One pass over the batch keeps the variance of values far from zero: the sums are of
    /// differences from each channel's first value, not of the values themselves.
    func testVarianceOfValuesWithALargeMeanKeepsItsDigits() {
        var rng = SeededRNG(seed: 42)
        let (B, C, S) = (20, 2, 300)
        // Channel 0 around 1000 with deviation 0.01, channel 1 around −5 with deviation 2.
        var x = [Float]()
        for i in 0 ..< B * C * S {
            let first = (i / S) % C == 0
            x.append(Float(first ? 1000 + 0.01 * rng.normal() : -5 + 2 * rng.normal()))
        }
        let (mean, variance) = BatchNorm(channels: C).statistics(Tensor(shape: [B, C, S], data: x))
        for c in 0 ..< C {
            var v = [Double]()
            for b in 0 ..< B { v += x[(b * C + c) * S ..< (b * C + c + 1) * S].map { Double($0) } }
            let m = v.reduce(0, +) / Double(v.count)
            let s2 = v.reduce(0.0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)
            XCTAssertEqual(Double(mean[c]), m, accuracy: 1e-6 * abs(m) + 1e-6, "channel \(c)")
            XCTAssertEqual(Double(variance[c]), s2, accuracy: 1e-3 * s2, "channel \(c)")
        }
    }
}
