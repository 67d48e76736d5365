import XCTest
import Foundation
import LE4Data
import TestSupport
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

    func testNesterovInPyTorchsForm() {
        // v ← αv + g, W −= η(g + αv), g = 0.2 both steps, α 0.9, η 0.1:
        // v = 0.2, W = 0.5 − 0.1(0.2 + 0.18); then v = 0.38, W −= 0.1(0.2 + 0.342).
        let p = param(0.5, grad: 0.2)
        let o = Optimizer(OptimizerConfig(.nesterov, learningRate: 0.1))
        o.step([p], lr: 0.1)
        XCTAssertEqual(p.value[0], 0.5 - 0.038, accuracy: 1e-7)
        o.step([p], lr: 0.1)
        XCTAssertEqual(p.value[0], 0.5 - 0.038 - 0.0542, accuracy: 1e-6)
        XCTAssertEqual(OptimizerConfig(.nesterov).beta1, 0.9)
    }

    func testBatchNormBiasesTakeTheirOwnRateButTheWeightsDecay() {
        func bnBias(_ w: Float, grad g: Float) -> Param {
            let p = Param(name: "beta", shape: [1], value: [w], decays: false, isBatchNormBias: true)
            p.grad = [g]
            return p
        }
        let weight = param(0.5, grad: 0.2), bias = bnBias(0.5, grad: 0.2), other = param(0.5, grad: 0.2, decays: false)
        let config = OptimizerConfig(.sgd, learningRate: 0.1, weightDecay: 0.01, bnBiasScale: 64, bnBiasDecay: true)
        Optimizer(config).step([weight, bias, other], lr: 0.1)
        XCTAssertEqual(weight.value[0], 0.5 - 0.1 * (0.2 + 0.01 * 0.5), accuracy: 1e-7)
        XCTAssertEqual(bias.value[0], 0.5 - 0.1 * (64 * 0.2 + 0.01 * 0.5), accuracy: 1e-6, "gradient × 64, decay as the weights'")
        XCTAssertEqual(other.value[0], 0.5 - 0.1 * 0.2, accuracy: 1e-7, "other biases neither scaled nor decayed")
        let plain = bnBias(0.5, grad: 0.2)
        Optimizer(OptimizerConfig(.sgd, learningRate: 0.1, weightDecay: 0.01)).step([plain], lr: 0.1)
        XCTAssertEqual(plain.value[0], 0.5 - 0.1 * 0.2, accuracy: 1e-7, "by default a BN bias is an ordinary bias")
    }

    func testTriangleScheduleIsAirbenchs() throws {
        let t = try Schedule(parsing: "triangle")
        XCTAssertEqual(t, .triangle(start: 0.2, peak: 0.23, end: 0.07))
        XCTAssertEqual(try Schedule(parsing: t.description), t)
        XCTAssertEqual(t.rate(base: 2, step: 0, totalSteps: 100, stepsPerEpoch: 10), 0.4, accuracy: 1e-6)
        XCTAssertEqual(t.rate(base: 2, step: 23, totalSteps: 100, stepsPerEpoch: 10), 2, accuracy: 1e-6)
        XCTAssertEqual(t.rate(base: 2, step: 10, totalSteps: 100, stepsPerEpoch: 10), 2 * (0.2 + 0.8 * 10 / 23), accuracy: 1e-6)
        XCTAssertEqual(t.rate(base: 2, step: 100, totalSteps: 100, stepsPerEpoch: 10), 0.14, accuracy: 1e-6)
        XCTAssertEqual(t.rate(base: 2, step: 50, totalSteps: 100, stepsPerEpoch: 10), 2 * (1 - 0.93 * 27 / 77), accuracy: 1e-6)
        for bad in ["triangle:peak=0", "triangle:peak=1", "triangle:start=-1", "triangle:end=nan", "triangle:top=0.5"] {
            XCTAssertThrowsError(try Schedule(parsing: bad), bad)
        }
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

    func testOnlyAdaDeltaAndAdamKeepSecondArraysAndRestoreChecksThem() throws {
        for kind in OptimizerKind.allCases {
            let o = Optimizer(OptimizerConfig(kind))
            o.step([param(0.5, grad: 0.2)], lr: 0.01)
            let keeps = kind == .adadelta || kind == .adam
            XCTAssertEqual(o.state.second.map(\.count), [keeps ? 1 : 0], "\(kind)")
        }
        let p = param(0.5, grad: 0.2)
        let adam = Optimizer(OptimizerConfig(.adam))
        XCTAssertThrowsError(try adam.restore(t: 3, first: [[0.1]], second: [[]], params: [p]), "Adam without its v")
        XCTAssertThrowsError(try adam.restore(t: 3, first: [[0.1, 0.2]], second: [[0.1]], params: [p]), "m of the wrong size")
        try adam.restore(t: 3, first: [[0.1]], second: [[0.01]], params: [p])
        XCTAssertEqual(adam.t, 3)
        let momentum = Optimizer(OptimizerConfig(.momentum))
        try momentum.restore(t: 3, first: [[0.1]], second: [[0.0]], params: [p])  // an older checkpoint's unused second array
        XCTAssertEqual(momentum.state.second.map(\.count), [0])
    }

    func testCheckpointStoresSecondArraysOnlyForTheRulesThatKeepThem() throws {
        let dir = temporaryDirectory("le4nn-opt")
        for kind in [OptimizerKind.momentum, .adam] {
            let net = try Network(spec: "fc4-relu-fc3", inputShape: [1, 2, 2], classes: 3, seed: 1)
            let trainer = Trainer(net: net, optimizer: OptimizerConfig(kind), smoothing: 0)
            trainer.trainStep(x: Tensor(shape: [2, 1, 2, 2], data: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
                              targets: [1, 0, 0, 0, 1, 0], lr: 0.01)
            let path = "\(dir)/\(kind).npz"
            try ModelFile.save(net, meta: "{}", trainer: trainer, to: path)
            let names = try NPZ.read(path).map(\.0)
            XCTAssertEqual(names.contains { $0.hasPrefix("opt.2.") }, kind == .adam, "\(kind): \(names)")
            let state = try XCTUnwrap(try ModelFile.load(path).optimizerState)
            let restored = Optimizer(OptimizerConfig(kind))
            try restored.restore(t: state.t, first: state.first, second: state.second, params: net.params)
            XCTAssertEqual(restored.state.first, trainer.optimizer.state.first)
            XCTAssertEqual(restored.state.second, trainer.optimizer.state.second)
        }
    }
}
