import XCTest
import Kernels
import Foundation
@testable import Net

/// The GELU kernel (Kernels/gelu.c) against x·Φ(x) and Φ(x) + x·φ(x) from erf in Double, for every
/// instruction set: whole vectors and a tail, across the bend and far into both tails.
final class GELUKernelTests: XCTestCase {
    func testValueAndInputGradientMatchErfInDoubleOnEveryISA() {
        // 16 × 20 + 6 points: the last 6 (far out in both tails among them) go through the tail copy.
        let x = (0 ..< 323).map { Float($0 - 161) / 16 } + [-90, -40, 40]
        let dy = x.indices.map { Float($0 % 7) - 3 }
        for isa in ISA.supported {
            var y = [Float](repeating: .nan, count: x.count), dx = y
            isa.kernels.gelu(x, nil, x.count, &y)
            isa.kernels.gelu(x, dy, x.count, &dx)
            for i in x.indices {
                let v = Double(x[i]), cdf = 0.5 * (1 + erf(v / 2.squareRoot())), density = exp(-v * v / 2) / (2 * Double.pi).squareRoot()
                XCTAssertEqual(Double(y[i]), v * cdf, accuracy: 3e-7 * max(1, abs(v)), "\(isa.name) gelu(\(v))")
                XCTAssertEqual(Double(dx[i]), Double(dy[i]) * (cdf + v * density), accuracy: 1e-6 * max(1, abs(Double(dy[i]))),
                               "\(isa.name) gelu′(\(v))")
            }
        }
    }
}
