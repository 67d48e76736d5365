import XCTest
import LE4Data
@testable import Net

/// The direct 3×3 kernel of few-channel layers against the plain reference in Double, for every
/// instruction set, on widths below, at and across the 16-pixel vectors.
final class DirectConvTests: XCTestCase {
    let shapes = [(1, 5, 6), (3, 7, 16), (1, 28, 28), (3, 9, 33), (2, 1, 2)]  // (channels, H, W)

    func testForwardMatchesReferenceWithScaleShiftAndReLU() {
        var rng = SeededRNG(seed: 21)
        for (c, h, wd) in shapes {
            let (batch, k) = (3, 5)
            let x = (0 ..< batch * c * h * wd).map { _ in Float(rng.normal()) }
            let w = (0 ..< k * c * 9).map { _ in Float(rng.normal() / 3) }
            let scale = (0 ..< k).map { _ in Float(rng.normal()) }, shift = (0 ..< k).map { _ in Float(rng.normal()) }
            let plain = referenceConvolution3x3(x, w, batch: batch, inC: c, outC: k, h: h, wd: wd)
            let fused = plain.enumerated().map { i, v in max(0, Double(scale[i / (h * wd) % k]) * v + Double(shift[i / (h * wd) % k])) }
            for isa in ISA.supported {
                var y = [Float](repeating: .nan, count: plain.count)
                DirectConv3x3.convolve(x, batch: batch, inC: c, outC: k, height: h, width: wd, filters: w,
                                       scale: nil, shift: nil, relu: false, into: &y, isa: isa)
                for (got, want) in zip(y, plain) { XCTAssertEqual(Double(got), want, accuracy: 1e-5, "\(isa.name) C\(c) \(h)×\(wd)") }
                DirectConv3x3.convolve(x, batch: batch, inC: c, outC: k, height: h, width: wd, filters: w,
                                       scale: scale, shift: shift, relu: true, into: &y, isa: isa)
                for (got, want) in zip(y, fused) { XCTAssertEqual(Double(got), want, accuracy: 1e-5, "\(isa.name) fused C\(c) \(h)×\(wd)") }
            }
        }
    }

    func testFilterAndInputGradientsMatchReference() {
        var rng = SeededRNG(seed: 22)
        for (c, h, wd) in shapes {
            let (batch, k) = (3, 4)
            let x = (0 ..< batch * c * h * wd).map { _ in Float(rng.normal()) }
            let dy = (0 ..< batch * k * h * wd).map { _ in Float(rng.normal()) }
            let w = (0 ..< k * c * 9).map { _ in Float(rng.normal() / 3) }
            // dW[k, c, u, v] = Σ_b,i,j dy[b, k, i, j]·x[b, c, i + u − 1, j + v − 1]
            var wantW = [Double](repeating: 0, count: k * c * 9)
            for b in 0 ..< batch { for kk in 0 ..< k { for ch in 0 ..< c { for u in 0 ..< 3 { for v in 0 ..< 3 {
                for i in 0 ..< h { for j in 0 ..< wd {
                    let (yi, xj) = (i + u - 1, j + v - 1)
                    guard yi >= 0, yi < h, xj >= 0, xj < wd else { continue }
                    wantW[(kk * c + ch) * 9 + u * 3 + v] += Double(dy[((b * k + kk) * h + i) * wd + j]) * Double(x[((b * c + ch) * h + yi) * wd + xj])
                } }
            } } } } }
            // dx is the convolution of dy with the rotated filters, in and out swapped.
            let rotated = (0 ..< c * k * 9).map { i in w[((i / 9 % k) * c + i / (k * 9)) * 9 + 8 - i % 9] }
            let wantX = referenceConvolution3x3(dy, rotated, batch: batch, inC: k, outC: c, h: h, wd: wd)
            for isa in ISA.supported {
                var dW = [Float](repeating: .nan, count: k * c * 9)
                DirectConv3x3.filterGradient(x, dy, batch: batch, inC: c, outC: k, height: h, width: wd, into: &dW, isa: isa)
                for (got, want) in zip(dW, wantW) { XCTAssertEqual(Double(got), want, accuracy: 1e-4, "\(isa.name) dW C\(c) \(h)×\(wd)") }
                var dx = [Float](repeating: .nan, count: x.count)
                DirectConv3x3.inputGradient(dy, batch: batch, inC: c, outC: k, height: h, width: wd, filters: w, into: &dx, isa: isa)
                for (got, want) in zip(dx, wantX) { XCTAssertEqual(Double(got), want, accuracy: 1e-5, "\(isa.name) dx C\(c) \(h)×\(wd)") }
            }
        }
    }
}
