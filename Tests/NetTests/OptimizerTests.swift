import XCTest
@testable import Net

/// One step of each optimizer against the course's formulas (39–55) computed by hand.
final class OptimizerTests: XCTestCase {
    func param(_ w: Float, grad g: Float, decays: Bool = true) -> Param {
        let p = Param(name: "w", shape: [1], value: [w], decays: decays)
        p.grad = [g]
        return p
    }

    func testDefaultsAreTheCourses() {
        XCTAssertEqual(OptimizerConfig(.sgd).learningRate, 0.01)
        XCTAssertEqual(OptimizerConfig(.momentum).beta1, 0.9)
        XCTAssertEqual(OptimizerConfig(.adagrad).learningRate, 0.001)
        XCTAssertEqual(OptimizerConfig(.adagrad).epsilon, 1e-8)
        XCTAssertEqual(OptimizerConfig(.rmsprop).learningRate, 0.01)
        XCTAssertEqual(OptimizerConfig(.rmsprop).beta1, 0.99)
        XCTAssertEqual(OptimizerConfig(.adadelta).beta1, 0.95)
        XCTAssertEqual(OptimizerConfig(.adadelta).epsilon, 1e-6)
        XCTAssertEqual(OptimizerConfig(.adam).learningRate, 0.001)
        XCTAssertEqual(OptimizerConfig(.adam).beta2, 0.999)
    }

    func testOneStepOfEach() {
        let w: Float = 0.5, g: Float = 0.2
        func step(_ c: OptimizerConfig, steps: Int = 1) -> Float {
            let p = param(w, grad: g)
            let o = Optimizer(c)
            for _ in 0 ..< steps { o.step([p], lr: c.learningRate) }
            return p.value[0]
        }
        XCTAssertEqual(step(OptimizerConfig(.sgd, learningRate: 0.1)), 0.5 - 0.1 * 0.2, accuracy: 1e-7)
        // Momentum: ΔW = αΔW − ηg twice: −0.02, then 0.9·(−0.02) − 0.02 = −0.038.
        XCTAssertEqual(step(OptimizerConfig(.momentum, learningRate: 0.1), steps: 2), 0.5 - 0.02 - 0.038, accuracy: 1e-6)
        // AdaGrad: h = h0 + g², W −= η g/√h.
        XCTAssertEqual(step(OptimizerConfig(.adagrad, learningRate: 0.1)), 0.5 - 0.1 * 0.2 / (1e-8 + 0.04).squareRoot(), accuracy: 1e-6)
        // RMSProp: h = (1−ρ) g², W −= η g/(√h + ε).
        let h: Float = 0.01 * 0.04
        XCTAssertEqual(step(OptimizerConfig(.rmsprop)), 0.5 - 0.01 * 0.2 / (h.squareRoot() + 1e-8), accuracy: 1e-6)
        // AdaDelta: h = (1−ρ)g², ΔW = −(√s + ε)/(√h + ε)·g with s = 0.
        let hd: Float = 0.05 * 0.04
        XCTAssertEqual(step(OptimizerConfig(.adadelta)), 0.5 - (1e-6 / (hd.squareRoot() + 1e-6)) * 0.2, accuracy: 1e-7)
        // Adam: after one step m̂ = g, v̂ = g², so W −= α·g/(|g| + ε).
        XCTAssertEqual(step(OptimizerConfig(.adam)), 0.5 - 0.001 * 0.2 / (0.2 + 1e-8), accuracy: 1e-7)
    }

    func testWeightDecayAndL1SkipBiases() {
        let weight = param(0.5, grad: 0), bias = param(0.5, grad: 0, decays: false)
        Optimizer(OptimizerConfig(.sgd, learningRate: 0.1, weightDecay: 0.2, l1: 0.1)).step([weight, bias], lr: 0.1)
        XCTAssertEqual(weight.value[0], 0.5 - 0.1 * (0.2 * 0.5 + 0.1), accuracy: 1e-7)
        XCTAssertEqual(bias.value[0], 0.5)
    }

    func testSchedules() throws {
        let base: Float = 0.1
        XCTAssertEqual(Schedule.constant.rate(base: base, step: 50, totalSteps: 100, stepsPerEpoch: 10), 0.1)
        XCTAssertEqual(try Schedule(parsing: "step:every=2:gamma=0.5").rate(base: base, step: 45, totalSteps: 100, stepsPerEpoch: 10), 0.025, accuracy: 1e-7)
        XCTAssertEqual(Schedule.cosine.rate(base: base, step: 50, totalSteps: 100, stepsPerEpoch: 10), 0.05, accuracy: 1e-6)
        let one = try Schedule(parsing: "onecycle:warmup=0.2")
        XCTAssertEqual(one.rate(base: base, step: 0, totalSteps: 100, stepsPerEpoch: 10), base / 25, accuracy: 1e-7)
        XCTAssertEqual(one.rate(base: base, step: 20, totalSteps: 100, stepsPerEpoch: 10), base, accuracy: 1e-6)
        XCTAssertLessThan(one.rate(base: base, step: 99, totalSteps: 100, stepsPerEpoch: 10), base / 100)
        XCTAssertThrowsError(try Schedule(parsing: "warp")) { XCTAssertTrue("\($0)".contains("onecycle"), "\($0)") }
        for bad in ["step:every=nan", "step:every=1e20", "step:gamma=-1", "onecycle:warmup=1", "step:evry=2"] {
            XCTAssertThrowsError(try Schedule(parsing: bad), bad)
        }
    }
}
