import XCTest
@testable import Augment
import LE4Data

final class MixupTests: XCTestCase {
    let g = ImageGeometry(channels: 1, height: 6, width: 5)

    /// Checks mixup against the documented streams: λᵢ from [epoch, step, i, 4], π from [epoch, step, max, 4].
    func testImagesAndTargetsAreTheSameConvexCombination() throws {
        let batch = 9, classes = 4
        let config = try AugmentConfig(parsing: "mixup:alpha=0.4", channels: 1, height: 6, width: 5)
        var augmenter = Augmenter(config: config, channels: 1, height: 6, width: 5)
        let x = Synthetic.random(count: batch * g.count, seed: 1)
        let t = Synthetic.smoothed(batch: batch, classes: classes)
        let out = augmented(&augmenter, x: x, targets: t, batch: batch, classes: classes, seed: 77, epoch: 2, step: 5)

        var permRNG = SeededRNG(seed: 77, stream: [2, 5, UInt64.max, 4])
        var perm = [Int](repeating: 0, count: batch)
        perm.withUnsafeMutableBufferPointer { Mixup.drawPermutation(into: $0, rng: &permRNG) }
        XCTAssertEqual(perm.sorted(), Array(0..<batch))
        XCTAssertNotEqual(perm, Array(0..<batch))
        for i in 0..<batch {
            var rng = stream(seed: 77, epoch: 2, step: 5, image: i, Mixup.self)
            let lambda = Mixup(alpha: 0.4).drawLambda(&rng), j = perm[i]
            for k in 0..<g.count {
                XCTAssertEqual(out.x[i * g.count + k], lambda * x[i * g.count + k] + (1 - lambda) * x[j * g.count + k],
                               accuracy: 1e-6)
            }
            var sum: Float = 0
            for c in 0..<classes {
                XCTAssertEqual(out.targets[i * classes + c],
                               lambda * t[i * classes + c] + (1 - lambda) * t[j * classes + c], accuracy: 1e-6)
                sum += out.targets[i * classes + c]
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
        }
        assertInUnitInterval(out.x)
    }

    /// Black-box: with one-hot targets of distinct classes, the targets reveal λ and the partner,
    /// and the image must be that same mixture of the two original images.
    func testTargetsRevealTheImageMixture() throws {
        let batch = 8, classes = 8
        var augmenter = Augmenter(config: try AugmentConfig(parsing: "mixup", channels: 1, height: 6, width: 5),
                                  channels: 1, height: 6, width: 5)
        let x = Synthetic.random(count: batch * g.count, seed: 9)
        let t = Synthetic.oneHot(batch: batch, classes: classes)
        var mixedWithOther = 0
        for step in 0..<20 {
            let out = augmented(&augmenter, x: x, targets: t, batch: batch, classes: classes, seed: 3, step: step)
            for i in 0..<batch {
                let row = Array(out.targets[(i * classes)..<((i + 1) * classes)])
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
                XCTAssert(row.allSatisfy { $0 >= 0 && $0 <= 1 })
                let lambda = row[i]
                let others = (0..<classes).filter { $0 != i && row[$0] > 0 }
                XCTAssertLessThanOrEqual(others.count, 1)
                let j = others.first ?? i
                if j != i { mixedWithOther += 1; XCTAssertEqual(row[j], 1 - lambda, accuracy: 1e-6) }
                for k in 0..<g.count {
                    XCTAssertEqual(out.x[i * g.count + k],
                                   lambda * x[i * g.count + k] + (1 - lambda) * x[j * g.count + k], accuracy: 1e-5)
                }
            }
        }
        XCTAssertGreaterThan(mixedWithOther, 100)
    }

    func testWorksWithoutTargets() throws {
        var augmenter = Augmenter(config: try AugmentConfig(parsing: "mixup", channels: 1, height: 6, width: 5),
                                  channels: 1, height: 6, width: 5)
        let x = Synthetic.random(count: 4 * g.count, seed: 9)
        let out = augmented(&augmenter, x: x, targets: [], batch: 4, classes: 0, seed: 3)
        XCTAssertNotEqual(out.x, x)
        assertInUnitInterval(out.x)
    }

    func testLambdaMeanAndVarianceMatchBeta() {
        for alpha in [0.2, 1.0, 0.4] {
            let mixup = Mixup(alpha: alpha)
            let draws = 20_000
            var sum = 0.0, sumSq = 0.0
            for s in 0..<draws {
                var rng = SeededRNG(seed: 12, stream: [0, 0, UInt64(s), 4])
                let l = Double(mixup.drawLambda(&rng))
                XCTAssert(l >= 0 && l <= 1)
                sum += l; sumSq += l * l
            }
            let mean = sum / Double(draws), variance = sumSq / Double(draws) - mean * mean
            let expected = 1 / (4 * (2 * alpha + 1))
            XCTAssertEqual(mean, 0.5, accuracy: 0.01, "alpha \(alpha)")
            XCTAssertEqual(variance, expected, accuracy: 0.005, "alpha \(alpha): expected variance \(expected)")
        }
    }

    func testPermutationIsUniformish() {
        // Position 0's partner should be uniform over a batch of 4.
        var counts = [Int](repeating: 0, count: 4)
        var perm = [Int](repeating: 0, count: 4)
        for s in 0..<8_000 {
            var rng = SeededRNG(seed: 4, stream: [UInt64(s)])
            perm.withUnsafeMutableBufferPointer { Mixup.drawPermutation(into: $0, rng: &rng) }
            XCTAssertEqual(perm.sorted(), [0, 1, 2, 3])
            counts[perm[0]] += 1
        }
        for c in counts { XCTAssertEqual(Double(c) / 8_000, 0.25, accuracy: 0.02) }
    }
}
