import XCTest
import Kernels
import LE4Data
@testable import Net

/// The 2×2 max-pool kernel (Kernels/maxpool2x2.c) against its definition, for every instruction
/// set: rows of 1–3 outputs (scalar), 4–7, 8–15 and 16 or more (vectors, the last overlapping),
/// odd sizes included, with ties.
final class MaxPoolKernelTests: XCTestCase {
    func testMaximaTheFirstOfTiedMaximaAndTheirIndicesOnEveryRowLength() {
        var rng = SeededRNG(seed: 13)
        for (h, w) in [(2, 2), (3, 5), (4, 8), (6, 13), (2, 16), (5, 23), (4, 28), (2, 34), (2, 67)] {
            let planes = 3, (oh, ow) = (h / 2, w / 2), base: Int32 = 1000
            // Values from {0, 1, 2, 3}: windows often hold their maximum twice or more.
            let x = (0 ..< planes * h * w).map { _ in Float(rng.int(below: 4)) }
            var wantY = [Float](), wantIndex = [Int32]()
            for p in 0 ..< planes {
                for r in 0 ..< oh {
                    for c in 0 ..< ow {
                        let window = [0, 1, w, w + 1].map { p * h * w + 2 * r * w + 2 * c + $0 }
                        let best = window.first { x[$0] == window.map { x[$0] }.max()! }!
                        wantY.append(x[best])
                        wantIndex.append(base + Int32(best))
                    }
                }
            }
            for isa in ISA.supported {
                var y = [Float](repeating: .nan, count: wantY.count), index = [Int32](repeating: -1, count: wantY.count)
                isa.kernels.maxpool2x2(x, planes, h, w, base, &y, &index)
                XCTAssertEqual(y, wantY, "\(isa.name) \(h)×\(w)")
                XCTAssertEqual(index, wantIndex, "\(isa.name) \(h)×\(w)")
                var maxima = [Float](repeating: .nan, count: wantY.count)
                isa.kernels.maxpool2x2(x, planes, h, w, 0, &maxima, nil)
                XCTAssertEqual(maxima, wantY, "\(isa.name) \(h)×\(w) without argmax")
            }
        }
    }
}
