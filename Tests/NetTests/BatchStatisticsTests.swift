import XCTest
import LE4Data
@testable import Net

/// BN adaptation: the running statistics come from the images given, in any state the network
/// was in before, with no weight changed and no label read.
final class BatchStatisticsTests: XCTestCase {
    func images(_ count: Int, seed: UInt64, brightness: Int, labels: (Int) -> UInt8 = { UInt8($0 % 10) }) -> ImageSet {
        var rng = SeededRNG(seed: seed)
        return ImageSet(count: count, channels: 1, height: 4, width: 4,
                        pixels: (0 ..< count * 16).map { _ in UInt8(min(255, brightness + rng.int(below: 64))) },
                        labels: (0 ..< count).map(labels), classNames: (0 ... 9).map(String.init))
    }

    func testAdaptedStatisticsAreThoseOfTheImagesGivenWhateverCameBefore() throws {
        let net = try Network(spec: "bn-fc10", inputShape: [1, 4, 4], classes: 10, seed: 1)
        let bn = try XCTUnwrap(net.layers.first as? BatchNorm)
        let set = images(40, seed: 2, brightness: 100)
        let weights = net.params.map(\.value)
        // One batch: the mean and the unbiased variance of every pixel of the set, in [0, 1].
        net.adaptBatchNorm(to: set, batch: 40)
        let x = set.pixels.map { Double($0) / 255 }, mean = x.reduce(0, +) / Double(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)
        XCTAssertEqual(Double(bn.runningMean.value[0]), mean, accuracy: 1e-5)
        XCTAssertEqual(Double(bn.runningVar.value[0]), variance, accuracy: 1e-5)
        // In batches of 10, from other statistics first: the same mean, whatever came before.
        net.adaptBatchNorm(to: images(40, seed: 3, brightness: 0), batch: 10)
        XCTAssertLessThan(bn.runningMean.value[0], 0.2)
        net.adaptBatchNorm(to: set, batch: 10)
        XCTAssertEqual(Double(bn.runningMean.value[0]), mean, accuracy: 1e-5)
        XCTAssertEqual(bn.momentum, bn.trainingMomentum, "training's momentum is back")
        XCTAssertEqual(net.params.map(\.value), weights, "no weight changes")
    }

    func testAdaptationNeverReadsLabels() throws {
        let a = try Network(spec: "conv4-bn-relu-fc10", inputShape: [1, 4, 4], classes: 10, seed: 1)
        let b = try Network(spec: "conv4-bn-relu-fc10", inputShape: [1, 4, 4], classes: 10, seed: 1)
        a.adaptBatchNorm(to: images(30, seed: 5, brightness: 50), batch: 8)
        b.adaptBatchNorm(to: images(30, seed: 5, brightness: 50, labels: { _ in 7 }), batch: 8)
        let probe = images(5, seed: 6, brightness: 80)
        XCTAssertEqual(a.probabilities(probe), b.probabilities(probe))
    }

    func testASortedSetGivesTheStatisticsOfTheWholeInEveryBatch() throws {
        // Half dark images, then half bright: batches of consecutive images would each see one
        // kind and find a small variance; interleaved batches see both, as the whole set does.
        let dark = images(20, seed: 7, brightness: 0), bright = images(20, seed: 8, brightness: 180)
        let sorted = ImageSet(count: 40, channels: 1, height: 4, width: 4, pixels: dark.pixels + bright.pixels,
                              labels: dark.labels + bright.labels, classNames: dark.classNames)
        let net = try Network(spec: "bn-fc10", inputShape: [1, 4, 4], classes: 10, seed: 1)
        let bn = try XCTUnwrap(net.layers.first as? BatchNorm)
        net.adaptBatchNorm(to: sorted, batch: 40)
        let whole = bn.runningVar.value[0]
        net.adaptBatchNorm(to: sorted, batch: 10)
        XCTAssertEqual(bn.runningVar.value[0], whole, accuracy: 0.1 * whole, "four interleaved batches of 10 find the whole's variance")
    }
}
