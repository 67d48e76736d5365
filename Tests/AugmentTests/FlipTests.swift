import XCTest
@testable import Augment
import LE4Data

final class FlipTests: XCTestCase {
    func testFlipMirrorsEveryRow() {
        let g = ImageGeometry(channels: 3, height: 5, width: 7)
        let original = Synthetic.gradient(g)
        var image = original
        image.withUnsafeMutableBufferPointer { HorizontalFlip(p: 1).apply(true, to: $0, geometry: g) }
        for c in 0..<3 { for y in 0..<5 { for x in 0..<7 {
            XCTAssertEqual(image[g.index(c, y, x)], original[g.index(c, y, 6 - x)])
        }}}
        image.withUnsafeMutableBufferPointer { HorizontalFlip(p: 1).apply(false, to: $0, geometry: g) }
        XCTAssertNotEqual(image, original)
        image.withUnsafeMutableBufferPointer { HorizontalFlip(p: 1).apply(true, to: $0, geometry: g) }
        XCTAssertEqual(image, original, "flipping twice restores the image")
    }

    func testFlipProbability() {
        let g = ImageGeometry(channels: 3, height: 5, width: 7)
        let flip = HorizontalFlip(p: 0.5)
        var flips = 0
        for s in 0..<10_000 {
            var rng = SeededRNG(seed: 3, stream: [UInt64(s)])
            if flip.draw(&rng, geometry: g) { flips += 1 }
        }
        XCTAssertEqual(Double(flips) / 10_000, 0.5, accuracy: 0.02)
        var rng = SeededRNG(seed: 1)
        XCTAssertFalse(HorizontalFlip(p: 0).draw(&rng, geometry: g))
        XCTAssertTrue(HorizontalFlip(p: 1).draw(&rng, geometry: g))
    }

    /// `mode=alternate`: an image flipped in epoch 0 is unflipped in epoch 1 and flipped again in
    /// epoch 2, wherever it sits in the batch and whatever the step; half the images start flipped.
    func testAlternatingFlipTurnsEachImageTheOtherWayEveryEpoch() throws {
        let g = ImageGeometry(channels: 3, height: 4, width: 5)
        let config = try AugmentConfig(parsing: "flip:mode=alternate", channels: 3, height: 4, width: 5)
        var augmenter = Augmenter(config: config, channels: 3, height: 4, width: 5)
        let batch = 200, original = Synthetic.gradient(g)
        let x = [[Float]](repeating: original, count: batch).flatMap { $0 }
        /// Which of training images `ids` come out flipped in `epoch`, keyed by image.
        func flipped(_ ids: [Int], epoch: Int, step: Int) -> [Int: Bool] {
            let out = augmented(&augmenter, x: Array(x[..<(ids.count * g.count)]), targets: [], batch: ids.count,
                                classes: 0, seed: 7, epoch: epoch, step: step, images: ids).x
            return Dictionary(uniqueKeysWithValues: ids.enumerated().map { i, id in
                (id, Array(out[(i * g.count)..<((i + 1) * g.count)]) != original)
            })
        }
        let ids = Array(1000..<1200)
        let e0 = flipped(ids, epoch: 0, step: 0)
        let e1 = flipped(ids.reversed(), epoch: 1, step: 5)
        var rng = SeededRNG(seed: 1)
        let e2 = flipped(ids.shuffled(using: &rng), epoch: 2, step: 3)
        for id in ids {
            XCTAssertNotEqual(e0[id], e1[id], "image \(id) turns the other way in epoch 1")
            XCTAssertEqual(e0[id], e2[id], "image \(id) turns back in epoch 2")
        }
        let started = e0.values.filter { $0 }.count
        XCTAssert((70...130).contains(started), "\(started) of 200 flipped in epoch 0")
        XCTAssertEqual(try AugmentConfig(parsing: config.description, channels: 3, height: 4, width: 5), config)
        XCTAssertEqual(config.description, "flip:p=0.5:mode=alternate")
    }

    func testFlipRejectedForDigitsAndAllowedForGreyGarments() throws {
        XCTAssertThrowsError(try AugmentConfig(parsing: "crop,flip", channels: 1, height: 28, width: 28)) { error in
            XCTAssert("\(error)".contains("flip is for images whose mirror is the same class (CIFAR-10, Fashion-MNIST); "
                                          + "digits must not be mirrored"), "\(error)")
        }
        XCTAssertNoThrow(try AugmentConfig(parsing: "crop,flip", channels: 3, height: 32, width: 32))
        // Fashion-MNIST: grey, but a mirrored shirt is a shirt; the augmenter takes such a config.
        let garments = try AugmentConfig(parsing: "crop,flip:p=1", channels: 1, height: 28, width: 28, mirrorable: true)
        var augmenter = Augmenter(config: garments, channels: 1, height: 28, width: 28)
        let g = ImageGeometry(channels: 1, height: 28, width: 28)
        XCTAssertNotEqual(augmented(&augmenter, x: Synthetic.gradient(g), targets: [], batch: 1, classes: 0, seed: 1).x,
                          Synthetic.gradient(g))
    }
}
