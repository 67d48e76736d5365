import XCTest
import LE4Data
import TestSupport
import Net

/// SAM: the step's gradient is taken at the weights moved by ρ along their gradient, the weights
/// are put back before the update, and BN's running statistics follow the real pass only.
final class SAMTests: XCTestCase {
    let x = Tensor(shape: [4, 2, 1, 1], data: [0.5, -1, 2, 0.25, -0.75, 1.5, 1, 1])
    let targets = SoftmaxCrossEntropy.oneHot([0, 2, 1, 2], classes: 3)
    let (rho, lr): (Float, Float) = (0.05, 0.1)

    func net() throws -> Network { try Network(spec: "bn-fc8-relu-fc3", inputShape: [2, 1, 1], classes: 3, seed: 3) }

    /// The loss gradient of `net` at its weights, filled into its params' `grad`.
    func gradient(_ net: Network) {
        let logits = net.forward(x, training: true)
        net.backward(SoftmaxCrossEntropy().lossAndGradient(logits: logits, targets: targets).grad)
    }

    func testTheStepTakesTheGradientAtTheWeightsMovedByRhoAlongTheGradient() throws {
        // By hand: g at w, then g' at w + ρ·g/‖g‖, then w − lr·g'.
        let reference = try net()
        let start = reference.params.map(\.value)
        gradient(reference)
        let norm = reference.params.reduce(0.0) { s, p in p.grad.reduce(s) { $0 + Double($1) * Double($1) } }.squareRoot()
        XCTAssertGreaterThan(norm, 0)
        for p in reference.params { p.value = zip(p.value, p.grad).map { $0 + rho * $1 / Float(norm) } }
        gradient(reference)
        let expected = zip(start, reference.params).map { w, p in zip(w, p.grad).map { $0 - lr * $1 } }

        let trained = try net()
        Trainer(net: trained, optimizer: OptimizerConfig(.sgd, learningRate: lr), sam: rho).trainStep(x: x, targets: targets, lr: lr)
        for (got, want) in zip(trained.params.map(\.value), expected) {
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-6) }
        }
        // A plain step moves elsewhere: the perturbation made a difference.
        let plain = try net()
        Trainer(net: plain, optimizer: OptimizerConfig(.sgd, learningRate: lr)).trainStep(x: x, targets: targets, lr: lr)
        XCTAssertNotEqual(plain.params.map(\.value), trained.params.map(\.value))
    }

    func testBatchNormStatisticsFollowTheRealPassOnly() throws {
        let (trained, plain) = (try net(), try net())
        Trainer(net: trained, optimizer: OptimizerConfig(.sgd, learningRate: lr), sam: rho).trainStep(x: x, targets: targets, lr: lr)
        Trainer(net: plain, optimizer: OptimizerConfig(.sgd, learningRate: lr)).trainStep(x: x, targets: targets, lr: lr)
        XCTAssertEqual(trained.buffers.map(\.value), plain.buffers.map(\.value), "one update of the running statistics, from w")
    }
}
