import XCTest
import LE4Data
import TestSupport
import Net

/// Lookahead: the slow copy's rule every five steps, the run ending on it, and its place in checkpoints.
final class LookaheadTests: XCTestCase {
    /// One weight and one bias (fc1 on a single input) and BN's two statistics, which the slow
    /// copy averages as well.
    func tinyNet() throws -> Network {
        try Network(spec: "bn-fc1", inputShape: [1, 1, 1], classes: 1, seed: 1)
    }

    func testEveryFifthStepTheSlowCopyMovesTowardTheWeightsAndTrainingRestartsFromIt() throws {
        let net = try tinyNet()
        let all = net.params + net.buffers
        for p in all { p.value = [0] }
        let lookahead = Lookahead(of: net, totalSteps: 20)
        for t in 1 ... 4 {
            for p in all { p.value = [Float(t)] }
            lookahead.update(afterStep: t)
            XCTAssertEqual(all.map(\.value), Array(repeating: [Float(t)], count: all.count), "steps between updates leave the weights alone")
        }
        XCTAssertEqual(lookahead.slow, Array(repeating: [0], count: all.count))
        for p in all { p.value = [10] }
        lookahead.update(afterStep: 5)
        // d_5 = 0.95⁵·(5/20)³; the slow copy 0 moves (1 − d_5) of the way to 10.
        let d = 0.95 * 0.95 * 0.95 * 0.95 * 0.95 * 0.25 * 0.25 * 0.25
        for (p, s) in zip(all, lookahead.slow) {
            XCTAssertEqual(Double(s[0]), 10 * (1 - d), accuracy: 1e-5)
            XCTAssertEqual(p.value, s, "training restarts from the slow copy")
        }
        XCTAssertEqual(lookahead.decay(atStep: 20), 0.95 * 0.95 * 0.95 * 0.95 * 0.95, accuracy: 1e-6)
    }

    func testTheRunEndsOnTheSlowCopyAfterItsLastStep() throws {
        let net = try tinyNet()
        let all = net.params + net.buffers
        let lookahead = Lookahead(of: net, totalSteps: 7)
        for t in 1 ... 6 { for p in all { p.value = [Float(t)] }; lookahead.update(afterStep: t) }
        let slow = lookahead.slow
        for p in all { p.value = [100] }
        lookahead.update(afterStep: 7)
        XCTAssertEqual(all.map(\.value), slow, "after step T the network holds the slow weights")
    }

    func testCheckpointHoldsTheSlowCopyAndRestoreContinuesIt() throws {
        let net = try Network(spec: "conv4-bn-relu-pool-fc10", inputShape: [1, 8, 8], classes: 10, seed: 3)
        let trainer = Trainer(net: net, optimizer: OptimizerConfig(.nesterov, learningRate: 0.05))
        trainer.keepLookahead(totalSteps: 100)
        var rng = SeededRNG(seed: 3)
        let x = Tensor(shape: [20, 1, 8, 8], data: (0 ..< 20 * 64).map { _ in rng.nextFloat() })
        let t = SoftmaxCrossEntropy.oneHot((0 ..< 20).map { UInt8($0 % 10) }, classes: 10)
        for _ in 0 ..< 7 { trainer.trainStep(x: x, targets: t, lr: 0.05) }
        let path = temporaryDirectory() + "/c.npz"
        try ModelFile.save(trainer.net, meta: "{}", trainer: trainer, to: path)
        let loaded = try ModelFile.load(path)
        let slow = try XCTUnwrap(loaded.lookahead)
        XCTAssertEqual(slow, try XCTUnwrap(trainer.lookahead).slow)
        XCTAssertNotEqual(slow, (net.params + net.buffers).map(\.value), "two steps after an update the weights have moved on")
        try ModelFile.save(trainer.net, meta: "{}", to: path)
        XCTAssertNil(try ModelFile.load(path).lookahead, "a model file without a trainer holds no slow copy")
        XCTAssertThrowsError(try Lookahead(of: net, totalSteps: 10).restore([[0]])) {
            XCTAssertTrue("\($0)".contains("do not fit"), "\($0)")
        }
    }
}
