import XCTest
import LE4Data
@testable import Contest

/// What `train` and `contest` make of their options before any data is read: each option
/// given wins, then the net's recipe, then the command's default.
final class TrainRequestTests: XCTestCase {
    /// The setup of a request with `options` (option name without dashes, value) given.
    func setup(_ options: [String], _ dataset: Dataset) throws -> TrainSetup {
        var r = TrainRequest()
        for pair in stride(from: 0, to: options.count, by: 2) {
            let value = options[pair + 1]
            switch options[pair] {
            case "--net": r.net = value
            case "--batch": r.batch = Int(value)
            case "--lr": r.lr = Float(value)
            case "--augment": r.augment = value
            case "--seed": r.seed = UInt64(value) ?? 0
            default: XCTFail("no such option in this test: \(options[pair])")
            }
        }
        return try r.setup(dataset: dataset)
    }

    func testDefaultAugmentationsFlipOnlyWhatMayBeMirrored() throws {
        XCTAssertEqual(try setup([], .mnist).settings.augment, "crop:pad=2:mode=zero")
        XCTAssertEqual(try setup([], .fashion).settings.augment, "crop:pad=2:mode=zero,flip:p=0.5:mode=random")
        XCTAssertEqual(try setup([], .cifar10).settings.augment, "crop:pad=4:mode=zero,flip:p=0.5:mode=random")
        XCTAssertEqual(try setup(["--net", "cifar-fast"], .cifar10).settings.augment, "crop:pad=2:mode=reflect,flip:p=0.5:mode=alternate")
        XCTAssertEqual(try setup(["--net", "cifar-fast"], .fashion).settings.augment, "crop:pad=2:mode=reflect,flip:p=0.5:mode=alternate")
        XCTAssertEqual(try setup(["--net", "cifar-fast"], .mnist).settings.augment,
                       "affine:rotate=10.0:scale=0.1:shear=0.1:shift=0.0,crop:pad=2:mode=reflect", "the recipe for digits")
        XCTAssertThrowsError(try setup(["--augment", "flip"], .mnist))
    }

    func testTheCifarFastRecipeTrainsDigitsAtTwoThirdsOfItsRate() throws {
        XCTAssertEqual(try setup(["--net", "cifar-fast"], .cifar10).settings.learningRate, 1.5)
        XCTAssertEqual(try setup(["--net", "cifar-fast"], .fashion).settings.learningRate, 1.5)
        XCTAssertEqual(try setup(["--net", "cifar-fast"], .mnist).settings.learningRate, 1.0)
        XCTAssertEqual(try setup(["--net", "cifar-fast", "--batch", "512"], .mnist).settings.learningRate, 0.5)
        XCTAssertEqual(try setup(["--net", "cifar-fast", "--lr", "1.5"], .mnist).settings.learningRate, 1.5, "--lr overrides it")
    }

    func testTheSetupHoldsTheParsedAugmentationsAndTheNetworkTheRunTrains() throws {
        let s = try setup(["--net", "mnist-small", "--augment", "cutout,crop:pad=3", "--seed", "7"], .mnist)
        XCTAssertEqual(s.augmentation.description, s.settings.augment)
        XCTAssertEqual(s.settings.augment, "crop:pad=3:mode=zero,cutout:size=8:fill=zero")
        XCTAssertEqual(s.network.spec, s.settings.net)
        // Built with the run's seed: the same options give the same initial weights, another seed others.
        let again = try setup(["--net", "mnist-small", "--augment", "cutout,crop:pad=3", "--seed", "7"], .mnist)
        let other = try setup(["--net", "mnist-small", "--augment", "cutout,crop:pad=3", "--seed", "8"], .mnist)
        XCTAssertEqual(s.network.params.map(\.value), again.network.params.map(\.value))
        XCTAssertNotEqual(s.network.params.map(\.value), other.network.params.map(\.value))
    }
}
