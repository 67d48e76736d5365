import XCTest
@testable import Augment
import LE4Data

final class AugmenterTests: XCTestCase {
    struct Case { let spec: String; let channels: Int; let side: Int }
    let cases = [
        Case(spec: "crop", channels: 1, side: 28), Case(spec: "crop:mode=reflect", channels: 3, side: 32),
        Case(spec: "flip", channels: 3, side: 32), Case(spec: "erasing:p=1", channels: 1, side: 28),
        Case(spec: "cutout", channels: 1, side: 28), Case(spec: "cutout:fill=mean", channels: 3, side: 32),
        Case(spec: "mixup", channels: 1, side: 28),
        Case(spec: "crop,erasing,cutout,mixup", channels: 1, side: 28),
        Case(spec: "crop:mode=reflect,flip,erasing,cutout:fill=mean,mixup:alpha=1", channels: 3, side: 32),
        Case(spec: "stroke", channels: 1, side: 28), Case(spec: "affine", channels: 1, side: 28),
        Case(spec: "elastic", channels: 1, side: 28), Case(spec: "stroke:amount=1,affine:rotate=180,elastic:alpha=100", channels: 3, side: 32),
        Case(spec: "stroke,affine,elastic,crop,erasing,cutout,mixup", channels: 1, side: 28),
    ]

    /// Only the first `batch` images and target rows are touched; values stay in [0, 1]; targets
    /// stay non-negative rows summing to 1; and something actually changes.
    func testShapesAndRangeKept() throws {
        let batch = 12, classes = 10
        for c in cases {
            let config = try AugmentConfig(parsing: c.spec, channels: c.channels, height: c.side, width: c.side)
            var augmenter = Augmenter(config: config, channels: c.channels, height: c.side, width: c.side)
            let n = c.channels * c.side * c.side
            // Two extra images / rows of sentinels after the batch.
            var x = Synthetic.random(count: batch * n, seed: 1) + [Float](repeating: 7, count: 2 * n)
            var t = Synthetic.smoothed(batch: batch, classes: classes) + [Float](repeating: 7, count: 2 * classes)
            let before = x
            for step in 0..<3 {
                withBuffers(&x, &t) { px, pt in
                    augmenter.apply(x: px, targets: pt, batch: batch, classes: classes, seed: 5, epoch: 1, step: step)
                }
            }
            XCTAssertEqual(x.count, (batch + 2) * n)
            XCTAssert(x[(batch * n)...].allSatisfy { $0 == 7 }, c.spec)
            XCTAssert(t[(batch * classes)...].allSatisfy { $0 == 7 }, c.spec)
            assertInUnitInterval(Array(x[..<(batch * n)]))
            for i in 0..<batch {
                let row = t[(i * classes)..<((i + 1) * classes)]
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5, c.spec)
                XCTAssert(row.allSatisfy { $0 >= 0 }, c.spec)
            }
            XCTAssertNotEqual(Array(x[..<(batch * n)]), Array(before[..<(batch * n)]), c.spec)
            XCTAssertEqual(config.usesMixup, c.spec.contains("mixup"))
        }
    }

    func testSameSeedReproducesAndOtherSeedOrStepChanges() throws {
        let batch = 16, classes = 10
        let config = try AugmentConfig(parsing: "crop:mode=reflect,flip,erasing,cutout,mixup", channels: 3, height: 32, width: 32)
        var a = Augmenter(config: config, channels: 3, height: 32, width: 32)
        var b = Augmenter(config: config, channels: 3, height: 32, width: 32)
        let x = Synthetic.random(count: batch * 3 * 32 * 32, seed: 2)
        let t = Synthetic.oneHot(batch: batch, classes: classes)
        let r1 = augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: 42, epoch: 3, step: 7)
        _ = augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: 1, epoch: 0, step: 0)  // disturb scratch
        let r2 = augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: 42, epoch: 3, step: 7)
        let r3 = augmented(&b, x: x, targets: t, batch: batch, classes: classes, seed: 42, epoch: 3, step: 7)
        XCTAssertEqual(r1.x, r2.x); XCTAssertEqual(r1.targets, r2.targets)
        XCTAssertEqual(r1.x, r3.x); XCTAssertEqual(r1.targets, r3.targets)
        for (seed, epoch, step) in [(43, 3, 7), (42, 3, 8), (42, 4, 7)] as [(UInt64, Int, Int)] {
            let r = augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: seed, epoch: epoch, step: step)
            XCTAssertNotEqual(r.x, r1.x, "seed \(seed) epoch \(epoch) step \(step)")
            XCTAssertNotEqual(r.targets, r1.targets, "seed \(seed) epoch \(epoch) step \(step)")
        }
    }

    /// Every augmentation in the table, on its own: the same seed gives the same batch (also from a
    /// fresh augmenter, and after other batches), another seed, epoch or step another one.
    func testEachAugmentationIsReproducibleAndSeedDependent() throws {
        let batch = 8, classes = 10, n = 3 * 16 * 16
        let x = Synthetic.random(count: batch * n, seed: 12)
        let t = Synthetic.oneHot(batch: batch, classes: classes)
        for entry in AugmentationTable.entries {
            let config = try AugmentConfig(parsing: entry.name, channels: 3, height: 16, width: 16)
            var a = Augmenter(config: config, channels: 3, height: 16, width: 16)
            var b = Augmenter(config: config, channels: 3, height: 16, width: 16)
            let first = augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: 5, epoch: 1, step: 2)
            XCTAssertNotEqual(first.x, x, entry.name)
            _ = augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: 6, epoch: 0, step: 0)
            XCTAssertEqual(augmented(&a, x: x, targets: t, batch: batch, classes: classes, seed: 5, epoch: 1, step: 2).x,
                           first.x, entry.name)
            XCTAssertEqual(augmented(&b, x: x, targets: t, batch: batch, classes: classes, seed: 5, epoch: 1, step: 2).x,
                           first.x, entry.name)
            for (seed, epoch, step) in [(6, 1, 2), (5, 2, 2), (5, 1, 3)] as [(UInt64, Int, Int)] {
                XCTAssertNotEqual(augmented(&a, x: x, targets: t, batch: batch, classes: classes,
                                            seed: seed, epoch: epoch, step: step).x,
                                  first.x, "\(entry.name): seed \(seed) epoch \(epoch) step \(step)")
            }
        }
    }

    /// Without mixup, image i's result depends only on (seed, epoch, step, i), not on the batch around it.
    func testImageResultIndependentOfBatchSize() throws {
        let config = try AugmentConfig(parsing: "stroke,affine,elastic,crop,flip,erasing:p=0.7,cutout",
                                       channels: 3, height: 32, width: 32)
        var augmenter = Augmenter(config: config, channels: 3, height: 32, width: 32)
        let n = 3 * 32 * 32
        let x = Synthetic.random(count: 20 * n, seed: 3)
        let t = Synthetic.oneHot(batch: 20, classes: 10)
        let big = augmented(&augmenter, x: x, targets: t, batch: 20, classes: 10, seed: 9, epoch: 1, step: 2)
        let small = augmented(&augmenter, x: Array(x[..<(5 * n)]), targets: Array(t[..<50]), batch: 5,
                              classes: 10, seed: 9, epoch: 1, step: 2)
        XCTAssertEqual(Array(big.x[..<(5 * n)]), small.x)
        XCTAssertEqual(Array(big.targets[..<50]), small.targets)
        XCTAssertEqual(big.targets, t, "targets are untouched without mixup")
    }

    /// The augmenter is exactly the documented pipeline: crop, flip, erasing, cutout with stream [e, s, i, k].
    func testMatchesDocumentedPipeline() throws {
        let g = ImageGeometry(channels: 3, height: 32, width: 32)
        let config = try AugmentConfig(parsing: "cutout:size=10,erasing:p=0.8,flip,crop:pad=3:mode=reflect",
                                       channels: 3, height: 32, width: 32)
        var augmenter = Augmenter(config: config, channels: 3, height: 32, width: 32)
        let batch = 6
        let x = Synthetic.random(count: batch * g.count, seed: 4)
        let out = augmented(&augmenter, x: x, targets: [], batch: batch, classes: 0, seed: 31, epoch: 2, step: 9)
        var scratch = [Float](repeating: 0, count: g.count)
        for i in 0..<batch {
            var image = Array(x[(i * g.count)..<((i + 1) * g.count)])
            var r = stream(seed: 31, epoch: 2, step: 9, image: i, RandomCrop.self)
            let crop = config[RandomCrop.self]!, cp = crop.draw(&r, geometry: g)
            withBuffers(&image, &scratch) { crop.apply(cp, to: $0, rng: &r, scratch: $1, geometry: g) }
            r = stream(seed: 31, epoch: 2, step: 9, image: i, HorizontalFlip.self)
            let flip = config[HorizontalFlip.self]!, flipped = flip.draw(&r, geometry: g)
            image.withUnsafeMutableBufferPointer { flip.apply(flipped, to: $0, geometry: g) }
            r = stream(seed: 31, epoch: 2, step: 9, image: i, RandomErasing.self)
            let erasing = config[RandomErasing.self]!, ep = erasing.draw(&r, geometry: g)
            image.withUnsafeMutableBufferPointer { erasing.apply(ep, to: $0, rng: &r, geometry: g) }
            r = stream(seed: 31, epoch: 2, step: 9, image: i, Cutout.self)
            let cutout = config[Cutout.self]!, kp = cutout.draw(&r, geometry: g)
            image.withUnsafeMutableBufferPointer { cutout.apply(kp, to: $0, geometry: g) }
            XCTAssertEqual(Array(out.x[(i * g.count)..<((i + 1) * g.count)]), image, "image \(i)")
        }
    }

    func testEmptyConfigLeavesBatchAlone() {
        var augmenter = Augmenter(config: .none, channels: 1, height: 28, width: 28)
        let x = Synthetic.random(count: 4 * 784, seed: 1), t = Synthetic.oneHot(batch: 4, classes: 10)
        let out = augmented(&augmenter, x: x, targets: t, batch: 4, classes: 10, seed: 1)
        XCTAssertEqual(out.x, x)
        XCTAssertEqual(out.targets, t)
    }

    /// Milliseconds per batch of 100 MNIST-sized images for each augmentation set (printed; the
    /// README compares them with a training step).
    func testSpeedOnMNISTSizedBatch() throws {
        let batch = 100, classes = 10, n = 28 * 28
        for spec in ["crop", "erasing", "cutout", "mixup", "crop,erasing,cutout,mixup", "stroke", "affine", "elastic",
                     "elastic:alpha=34:sigma=4", "stroke,affine,elastic,crop"] {
            let config = try AugmentConfig(parsing: spec, channels: 1, height: 28, width: 28)
            var augmenter = Augmenter(config: config, channels: 1, height: 28, width: 28)
            var x = Synthetic.random(count: batch * n, seed: 1)
            var t = Synthetic.oneHot(batch: batch, classes: classes)
            let runs = 50
            let clock = ContinuousClock()
            var elapsed = Duration.zero
            withBuffers(&x, &t) { px, pt in
                augmenter.apply(x: px, targets: pt, batch: batch, classes: classes, seed: 1, epoch: 0, step: -1)  // warm-up
                elapsed = clock.measure {
                    for step in 0..<runs {
                        augmenter.apply(x: px, targets: pt, batch: batch, classes: classes, seed: 1, epoch: 0, step: step)
                    }
                }
            }
            let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15
            let perBatch = ms / Double(runs)
            print(String(format: "augment speed: %@ on %d×1×28×28: %.3f ms per batch (mean of %d)",
                         spec, batch, perBatch, runs))
            assertInUnitInterval(x)
            XCTAssertLessThan(perBatch, 50, spec)
        }
    }
}
