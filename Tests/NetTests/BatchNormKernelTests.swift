import XCTest
import CKernels
import LE4Data
@testable import Net

/// The batch-norm kernels (Kernels/batchnorm.c) against plain formulas in Double, for every
/// instruction set, on runs shorter than, equal to and across the 16-float vectors, strided as a
/// channel of [B, C, S] is.
final class BatchNormKernelTests: XCTestCase {
    let shapes = [(3, 2, 5), (2, 3, 16), (4, 2, 37), (5, 3, 1)]  // (B, C, S)

    func testStatisticsNormalizeAndGradientsMatchTheFormulas() {
        var rng = SeededRNG(seed: 41)
        for (B, C, S) in shapes {
            let x = (0 ..< B * C * S).map { _ in Float(3 + 2 * rng.normal()) }
            let dy = (0 ..< B * C * S).map { _ in Float(rng.normal()) }
            for c in 0 ..< C {
                let idx = (0 ..< B).flatMap { b in (0 ..< S).map { (b * C + c) * S + $0 } }
                let m = Double(idx.count)
                let mean = idx.reduce(0.0) { $0 + Double(x[$1]) } / m
                let variance = idx.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / m
                let inv = 1 / (variance + 1e-5).squareRoot(), (g, beta) = (1.5, -0.4)
                let xhat = idx.map { (Double(x[$0]) - mean) * inv }
                for isa in ISA.supported {
                    for relu in [false, true] {
                        let tag = "\(isa.name) B\(B) C\(C) S\(S) channel \(c) relu \(relu)"
                        let r: Int32 = relu ? 1 : 0
                        var (gotMean, gotVar): (Float, Float) = (0, 0)
                        x.withUnsafeBufferPointer { xp in
                            le4_bn_statistics(isa.cValue, xp.baseAddress! + c * S, B, C * S, S, &gotMean, &gotVar)
                        }
                        XCTAssertEqual(Double(gotMean), mean, accuracy: 1e-5 * abs(mean), tag)
                        XCTAssertEqual(Double(gotVar), variance, accuracy: 1e-5 * variance, tag)
                        var y = [Float](repeating: .nan, count: x.count)
                        x.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer { yp in
                                le4_bn_normalize(isa.cValue, xp.baseAddress! + c * S, B, C * S, S, Float(mean), Float(inv), Float(g),
                                                 Float(beta), r, yp.baseAddress! + c * S)
                            }
                        }
                        let out = xhat.map { g * $0 + beta }
                        for (k, i) in idx.enumerated() {
                            XCTAssertEqual(Double(y[i]), relu ? max(0, out[k]) : out[k], accuracy: 1e-5, tag)
                        }
                        // Only this channel is written.
                        XCTAssert(y.indices.filter { !idx.contains($0) }.allSatisfy { y[$0].isNaN }, tag)
                        let dz = idx.enumerated().map { k, i in relu && !(out[k] > 0) ? 0 : Double(dy[i]) }
                        let sdz = dz.reduce(0, +), sdzx = zip(dz, xhat).reduce(0) { $0 + $1.0 * $1.1 }
                        var (gotS, gotSX): (Float, Float) = (0, 0)
                        var dx = [Float](repeating: .nan, count: x.count)
                        let (a, b, cc): (Float, Float, Float) = (0.7, -0.2, 0.05)
                        dy.withUnsafeBufferPointer { dp in
                            x.withUnsafeBufferPointer { xp in
                                le4_bn_gradient_sums(isa.cValue, dp.baseAddress! + c * S, xp.baseAddress! + c * S, B, C * S, S,
                                                     Float(mean), Float(inv), Float(g), Float(beta), r, &gotS, &gotSX)
                                dx.withUnsafeMutableBufferPointer { dxp in
                                    le4_bn_input_grad(isa.cValue, dp.baseAddress! + c * S, xp.baseAddress! + c * S, B, C * S, S,
                                                      Float(mean), Float(inv), Float(g), Float(beta), r, a, b, cc, dxp.baseAddress! + c * S)
                                }
                            }
                        }
                        XCTAssertEqual(Double(gotS), sdz, accuracy: 1e-4, tag)
                        XCTAssertEqual(Double(gotSX), sdzx, accuracy: 1e-4, tag)
                        for (k, i) in idx.enumerated() {
                            XCTAssertEqual(Double(dx[i]), Double(a) * dz[k] + Double(b) * xhat[k] + Double(cc), accuracy: 1e-5, tag)
                        }
                    }
                }
            }
        }
    }
    /// One pass over the channel keeps the variance of values far from zero: the sums are of
    /// differences from the channel's first value, not of the values themselves.
    func testVarianceOfValuesWithALargeMeanKeepsItsDigits() {
        var rng = SeededRNG(seed: 42)
        let (B, C, S) = (8, 1, 300)
        let x = (0 ..< B * C * S).map { _ in Float(1000 + 0.01 * rng.normal()) }
        let m = Double(x.count), mean = x.reduce(0.0) { $0 + Double($1) } / m
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / m
        for isa in ISA.supported {
            var (gotMean, gotVar): (Float, Float) = (0, 0)
            le4_bn_statistics(isa.cValue, x, B, C * S, S, &gotMean, &gotVar)
            XCTAssertEqual(Double(gotMean), mean, accuracy: 1e-4, isa.name)
            XCTAssertEqual(Double(gotVar), variance, accuracy: 1e-2 * variance, isa.name)
        }
    }
}
