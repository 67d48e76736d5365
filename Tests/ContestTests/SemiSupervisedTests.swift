import XCTest
import LE4Data
import Net
@testable import Contest
import TestSupport

/// Semi-supervised learning: which answers become pseudo-labels, and that learning from them
/// reads the images alone, the same way each time.
final class SemiSupervisedTests: XCTestCase {
    func testSelectionKeepsTheMostConfidentFractionOfEachAnsweredClass() {
        let p: [Float] = [
            0.9, 0.05, 0.05,  // 0: class 0, the surest of its class
            0.5, 0.3, 0.2,  // 1: class 0, the least sure
            0.7, 0.2, 0.1,  // 2: class 0
            0.2, 0.6, 0.2,  // 3: class 1, alone in its class
            0.1, 0.1, 0.8,  // 4: class 2
            0.3, 0.1, 0.6,  // 5: class 2
        ]
        // All of each class, but class 0 holds 3 of the 6 images: only an equal share, 2, the surest.
        let all = SemiSupervised.select(probabilities: p, classes: 3, fraction: 1)
        XCTAssertEqual(all.map(\.index), [0, 2, 3, 4, 5])
        XCTAssertEqual(all.map(\.label), [0, 0, 1, 2, 2])
        // Half: half of each class rounded up, at most half an equal share (1).
        XCTAssertEqual(SemiSupervised.select(probabilities: p, classes: 3, fraction: 0.5).map(\.index), [0, 3, 4])
        // A tiny fraction still keeps the surest image of every answered class.
        XCTAssertEqual(SemiSupervised.select(probabilities: p, classes: 3, fraction: 0.01).map(\.index), [0, 3, 4])
    }

    func testSettingsOutOfRangeAreRefusedNamingTheOption() {
        var semi = SemiSupervised()
        semi.fraction = 0
        XCTAssertThrowsError(try semi.check()) { XCTAssertTrue("\($0)".contains("--pseudo-fraction must be in (0, 1]"), "\($0)") }
        semi = SemiSupervised()
        semi.rounds = 11
        XCTAssertThrowsError(try semi.check()) { XCTAssertTrue("\($0)".contains("--pseudo-rounds must be 1 to 10"), "\($0)") }
    }

    func testLearningReadsTheImagesAloneAndGivesTheSameAnswersForTheSameSeed() throws {
        let root = try requireDataRoot()
        var request = TrainRequest()
        (request.net, request.trainLimit, request.batch, request.augment) = ("conv4-bn-relu-pool-fc10", 300, 50, "crop")
        let settings = try request.setup(dataset: .mnist, defaultValidation: 0).settings
        let images = try Dataset.mnist.load(root: root, train: false).subset(Array(0 ..< 120))
        var mislabelled = images
        mislabelled.labels = images.labels.map { ($0 + 3) % 10 }
        func learn(_ set: ImageSet) throws -> (first: [[Float]], outcome: SemiSupervised.Outcome) {
            // A fresh member each time, with the weights its settings' seed draws.
            let ensemble = Ensemble(networks: [try request.setup(dataset: .mnist, defaultValidation: 0).network], paths: ["member"])
            let first = ensemble.memberProbabilities(set)
            var semi = SemiSupervised()
            semi.epochs = 1
            return (first, try semi.learn(ensemble, settings: [settings], images: set, first: first, dataset: .mnist,
                                          dataRoot: root, tta: false))
        }
        let (first, a) = try learn(images), b = try learn(mislabelled).outcome, c = try learn(images).outcome
        XCTAssertEqual(a.probabilities, b.probabilities, "the images' labels are never read")
        XCTAssertEqual(a.probabilities, c.probabilities, "the same seed gives the same answers")
        XCTAssertNotEqual(a.probabilities, first, "fine-tuning changed the member")
        XCTAssertEqual(a.chosen.count, 1)
        XCTAssertTrue((11 ... 120).contains(a.chosen[0]), "90 % of each answered class, rounded up, at most 11 each: \(a.chosen)")
    }
}
