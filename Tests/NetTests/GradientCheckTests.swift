import XCTest
@testable import Net
import LE4Data

/// Every layer's backward pass against central differences. The layers compute in Float; the
/// probe loss L = Σ r·y and the differences are accumulated in Double.
final class GradientCheckTests: XCTestCase {
    let h: Float = 1e-2

    func randomTensor(_ shape: [Int], _ rng: inout SeededRNG, scale: Double = 1) -> Tensor {
        Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in Float(rng.normal() * scale) })
    }

    func probe(_ y: Tensor, _ r: [Float]) -> Double {
        zip(y.data, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(1e-3, abs(a) + abs(b)) }

    /// Checks d(Σ r·layer(x))/dx and /dθ at up to `samples` coordinates each, by central differences
    /// of `step` (default `h`).
    func check(_ name: String, _ layer: Layer, input shape: [Int], seed: UInt64 = 1, samples: Int = 40,
               tolerance: Double = 2e-2, step: Float? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let h = step ?? self.h
        var rng = SeededRNG(seed: seed)
        var x = randomTensor(shape, &rng)
        let y = layer.forward(x, training: true)
        let r = (0 ..< y.count).map { _ in Float(rng.normal()) }
        let dx = layer.backward(Tensor(shape: y.shape, data: r), needInputGrad: true)
        let paramGrads = layer.params.map(\.grad)
        var worst = 0.0
        for _ in 0 ..< samples {
            let i = rng.int(below: x.count)
            let orig = x.data[i]
            x.data[i] = orig + h; let up = probe(layer.forward(x, training: true), r)
            x.data[i] = orig - h; let down = probe(layer.forward(x, training: true), r)
            x.data[i] = orig
            let numeric = (up - down) / (2 * Double(h))
            let err = relativeError(numeric, Double(dx.data[i]))
            worst = max(worst, err)
            XCTAssertLessThan(err, tolerance, "\(name) dx[\(i)]: analytic \(dx.data[i]) numeric \(numeric) relative error \(err)", file: file, line: line)
        }
        for (p, analytic) in zip(layer.params, paramGrads) {
            for _ in 0 ..< samples {
                let i = rng.int(below: p.value.count)
                let orig = p.value[i]
                p.value[i] = orig + h; let up = probe(layer.forward(x, training: true), r)
                p.value[i] = orig - h; let down = probe(layer.forward(x, training: true), r)
                p.value[i] = orig
                let numeric = (up - down) / (2 * Double(h))
                let err = relativeError(numeric, Double(analytic[i]))
                worst = max(worst, err)
                XCTAssertLessThan(err, tolerance, "\(name) d\(p.name)[\(i)]: analytic \(analytic[i]) numeric \(numeric) relative error \(err)", file: file, line: line)
            }
        }
        print("gradient check \(name): worst relative error \(String(format: "%.2e", worst))")
    }

    func testAffine() {
        var rng = SeededRNG(seed: 2)
        check("fc7", Affine(inputs: 13, outputs: 7, initializer: .xavier, rng: &rng), input: [5, 13])
        check("fc3 on an image", Affine(inputs: 2 * 3 * 5, outputs: 3, initializer: .he, rng: &rng), input: [4, 2, 3, 5])
    }

    func testActivations() {
        check("sigmoid", Sigmoid(), input: [3, 11])
        check("gelu", GELU(), input: [3, 11])
        check("silu, SIMD blocks and a tail", SiLU(), input: [3, 37])
        check("relu", ReLU(), input: [3, 2, 5, 5])
        check("relu, SIMD blocks and a tail", ReLU(), input: [3, 37])
    }

    func testSiLUIsXTimesTheSigmoidOnBothSidesOfZeroAndInItsTails() {
        let grid = stride(from: -30.0, through: 30.0, by: 0.37).map { Float($0) }
        let y = SiLU().forward(Tensor(shape: [1, grid.count], data: grid), training: false)
        for (x, v) in zip(grid, y.data) {
            XCTAssertEqual(Double(v), Double(x) / (1 + exp(-Double(x))), accuracy: 1e-6 * max(1, abs(Double(x))), "silu(\(x))")
        }
    }

    func testGELUExactFormOnBothSidesOfZeroAndInItsTails() {
        check("gelu, SIMD blocks and a tail", GELU(), input: [3, 37])
        check("gelu on an image", GELU(), input: [2, 3, 4, 5])
        // Against erf in Double, across the range where x·Φ(x) bends.
        let grid = (0 ... 160).map { Float($0 - 80) / 10 }
        let exact = GELU().forward(Tensor(shape: [1, grid.count], data: grid), training: false)
        for (x, y) in zip(grid, exact.data) {
            XCTAssertEqual(Double(y), Double(x) * 0.5 * (1 + erf(Double(x) / 2.squareRoot())), accuracy: 3e-7 * max(1, Double(abs(x))), "gelu(\(x))")
        }
        // Far out: y ≈ x with slope 1, and y ≈ 0 with slope 0, without overflow or NaN.
        let gelu = GELU()
        let x = Tensor(shape: [1, 4], data: [-40, -9, 9, 40])
        let y = gelu.forward(x, training: true)
        let dx = gelu.backward(Tensor(shape: [1, 4], data: [1, 1, 1, 1]), needInputGrad: true)
        for (i, (yi, di)) in [(0, 0), (0, 0), (9, 1), (40, 1)].enumerated() {
            XCTAssertEqual(y.data[i], Float(yi), accuracy: 1e-6)
            XCTAssertEqual(dx.data[i], Float(di), accuracy: 1e-6)
        }
    }

    func testAffineWithoutBiasAndWithScaledOutputs() {
        var rng = SeededRNG(seed: 21)
        let fc = Affine(inputs: 13, outputs: 7, initializer: .uniform, rng: &rng, bias: false, scale: 1.0 / 9)
        XCTAssertEqual(fc.params.map(\.name), ["W"])
        check("fc7:nobias:scale=1/9", fc, input: [5, 13])
        check("fc3:scale=2.5 with bias", Affine(inputs: 6, outputs: 3, initializer: .he, rng: &rng, scale: 2.5), input: [4, 6])
    }

    func testConvolutionWithDiracStartAndWithoutBias() {
        var rng = SeededRNG(seed: 22)
        for (c, k, hw) in [(2, 5, 6), (16, 8, 5)] {  // im2col, then Winograd
            let conv = Conv2D(inChannels: c, filters: k, size: 3, stride: 1, pad: 1, initializer: .uniform, rng: &rng, dirac: true, bias: false)
            XCTAssertEqual(conv.params.map(\.name), ["W"])
            check("conv\(k):dirac:nobias on C\(c)", conv, input: [2, c, hw, hw])
        }
    }

    func testPatchWhiteningPassesTheInputGradientThroughItsFrozenFilters() {
        var rng = SeededRNG(seed: 23)
        let whitening = PatchWhitening(inChannels: 2, size: 2, rng: &rng)
        whitening.fit(randomTensor([6, 2, 5, 5], &rng))
        XCTAssertTrue(whitening.params.isEmpty, "frozen: nothing for an optimizer")
        check("whiten (2×2, 2 channels)", whitening, input: [2, 2, 5, 6])
    }

    func testBatchNormWithoutScaleAndWithItsOwnMomentum() {
        let bn = BatchNorm(channels: 3, scaled: false, momentum: 0.4)
        XCTAssertEqual(bn.params.map(\.name), ["beta"])
        check("bn:noscale:momentum=0.4", bn, input: [4, 3, 2, 5])
        // running ← 0.6·running + 0.4·batch (unbiased variance), from 0 and 1.
        let fresh = BatchNorm(channels: 1, scaled: false, momentum: 0.4)
        _ = fresh.forward(Tensor(shape: [4, 1], data: [1, 2, 3, 6]), training: true)
        XCTAssertEqual(fresh.runningMean.value[0], 0.4 * 3, accuracy: 1e-6)
        XCTAssertEqual(fresh.runningVar.value[0], 0.6 + 0.4 * 14 / 3, accuracy: 1e-5)
    }

    func testBatchNormAfterAffineAndPerChannel() {
        check("bn features", BatchNorm(channels: 6), input: [7, 6])
        check("bn channels", BatchNorm(channels: 3), input: [4, 3, 5, 3])
    }

    /// BN with its activation fused, as `Network` runs bn-relu and bn-gelu; 11 values per
    /// channel take the SIMD blocks and the scalar tail.
    final class BNActivation: Layer {
        let bn: BatchNorm, activation: BatchNorm.Activation
        init(bn: BatchNorm, _ activation: BatchNorm.Activation) { (self.bn, self.activation) = (bn, activation) }
        var spec: String { "bn-\(activation)" }
        var params: [Param] { bn.params }
        func outputShape(_ input: [Int]) -> [Int] { input }
        func forward(_ x: Tensor, training: Bool) -> Tensor { bn.forward(x, training: training, then: activation) }
        func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor { bn.backward(dy, needInputGrad: needInputGrad, then: activation) }
    }

    func testBatchNormWithFusedReLU() {
        check("bn-relu features", BNActivation(bn: BatchNorm(channels: 6), .relu), input: [7, 6])
        check("bn-relu channels", BNActivation(bn: BatchNorm(channels: 3), .relu), input: [4, 3, 1, 11])
    }

    func testBatchNormWithFusedGELU() {
        check("bn-gelu features", BNActivation(bn: BatchNorm(channels: 6), .gelu), input: [7, 6])
        check("bn-gelu channels", BNActivation(bn: BatchNorm(channels: 3), .gelu), input: [4, 3, 1, 11])
        check("bn-gelu 3×3 maps", BNActivation(bn: BatchNorm(channels: 5, scaled: false), .gelu), input: [3, 5, 3, 3])
    }

    /// The fused step gives the floats of BN and the activation run one after the other: output,
    /// input gradient, parameter gradients, running statistics. Shapes with vectors and tails of
    /// the channels' runs, and runs shorter than a vector (3×3).
    func testFusedBatchNormActivationEqualsTheTwoLayersExactly() {
        var rng = SeededRNG(seed: 8)
        for (activation, shape) in [(BatchNorm.Activation.relu, [5, 4, 3, 7]), (.gelu, [5, 4, 3, 7]), (.gelu, [3, 4, 3, 3]),
                                    (.gelu, [2, 4, 5, 5]), (.gelu, [6, 4])] {
            let tag = "\(activation) \(shape)"
            let x = randomTensor(shape, &rng), dy = randomTensor(shape, &rng)
            let (bn, fused) = (BatchNorm(channels: 4), BatchNorm(channels: 4))
            let layer: Layer = activation == .relu ? ReLU() : GELU()
            for (i, g) in [0.5, -1.5, 2, 0.25].enumerated() { bn.gamma.value[i] = Float(g); fused.gamma.value[i] = Float(g) }
            for (i, b) in [0.3, -0.2, 0, 1].enumerated() { bn.beta.value[i] = Float(b); fused.beta.value[i] = Float(b) }
            let y = layer.forward(bn.forward(x, training: true), training: true)
            let dx = bn.backward(layer.backward(dy, needInputGrad: true), needInputGrad: true)
            XCTAssertEqual(fused.forward(x, training: true, then: activation).data, y.data, tag)
            XCTAssertEqual(fused.backward(dy, needInputGrad: true, then: activation).data, dx.data, tag)
            XCTAssertEqual(fused.gamma.grad, bn.gamma.grad, tag)
            XCTAssertEqual(fused.beta.grad, bn.beta.grad, tag)
            XCTAssertEqual(fused.runningMean.value, bn.runningMean.value, tag)
            // Without the input gradient (the first trained layer), the parameter gradients are the same.
            fused.beta.grad = [Float](repeating: .nan, count: 4)
            XCTAssertEqual(fused.backward(dy, needInputGrad: false, then: activation).data, [], tag)
            XCTAssertEqual(fused.beta.grad, bn.beta.grad, tag)
        }
    }

    /// BN, ReLU and a 2×2 max pool as the one step `Network` trains them in.
    final class BNReLUPool: Layer {
        let bn: BatchNorm, pool = MaxPool(size: 2)
        init(bn: BatchNorm) { self.bn = bn }
        var spec: String { "bn-relu-pool" }
        var params: [Param] { bn.params }
        func outputShape(_ input: [Int]) -> [Int] { pool.outputShape(input) }
        func forward(_ x: Tensor, training: Bool) -> Tensor { bn.forward(x, reluThenPool: pool) }
        func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor { bn.backward(dy, needInputGrad: needInputGrad, reluThenPool: pool) }
    }

    func testBatchNormWithFusedReLUAndPool() {
        // Seed 1 puts a window's maximum within h of the ReLU's kink, where central differences do
        // not apply. Most of dx is small here (¾ of the inputs pass no gradient but BN's), about
        // 3e-4, where the Float rounding of the probe's 144 outputs moves the differences by 5e-5:
        // hence 5e-2 against the 1e-3 floor of the relative error.
        check("bn-relu-pool even", BNReLUPool(bn: BatchNorm(channels: 3)), input: [4, 3, 6, 8], seed: 2, tolerance: 5e-2)
        check("bn-relu-pool odd", BNReLUPool(bn: BatchNorm(channels: 2)), input: [3, 2, 7, 5])
    }

    func testFusedBatchNormReLUPoolEqualsTheThreeLayersExactly() {
        var rng = SeededRNG(seed: 9)
        // Sizes with vectors and scalar tails of the pool's rows, odd ones leaving a row and a
        // column out; values on a grid of halves, so windows hold ties (and the ReLU's zeros).
        for (h, w) in [(28, 28), (14, 14), (7, 9), (32, 6)] {
            let shape = [3, 4, h, w]
            let x = Tensor(shape: shape, data: (0 ..< shape.reduce(1, *)).map { _ in Float((rng.normal() * 2).rounded()) / 2 })
            let (bn, fused, relu, pool, fusedPool) = (BatchNorm(channels: 4), BatchNorm(channels: 4), ReLU(), MaxPool(size: 2), MaxPool(size: 2))
            for (i, g) in [0.5, -1.5, 2, 0.25].enumerated() { bn.gamma.value[i] = Float(g); fused.gamma.value[i] = Float(g) }
            for (i, b) in [0.3, -0.2, 0, 1].enumerated() { bn.beta.value[i] = Float(b); fused.beta.value[i] = Float(b) }
            let y = pool.forward(relu.forward(bn.forward(x, training: true), training: true), training: true)
            let dy = randomTensor(y.shape, &rng)
            let dx = bn.backward(relu.backward(pool.backward(dy, needInputGrad: true), needInputGrad: true), needInputGrad: true)
            XCTAssertEqual(fused.forward(x, reluThenPool: fusedPool).data, y.data, "\(h)×\(w)")
            XCTAssertEqual(fusedPool.argmax, pool.argmax, "\(h)×\(w)")
            XCTAssertEqual(fused.backward(dy, needInputGrad: true, reluThenPool: fusedPool).data, dx.data, "\(h)×\(w)")
            XCTAssertEqual(fused.gamma.grad, bn.gamma.grad, "\(h)×\(w)")
            XCTAssertEqual(fused.beta.grad, bn.beta.grad, "\(h)×\(w)")
            XCTAssertEqual(fused.runningVar.value, bn.runningVar.value, "\(h)×\(w)")
        }
    }

    func testConvolutionPaddingStrideAndOddSizes() {
        var rng = SeededRNG(seed: 3)
        for (c, k, r, s, p, hw) in [(1, 2, 3, 1, 1, 5), (3, 4, 3, 2, 0, 7), (2, 3, 5, 1, 2, 6), (2, 2, 3, 2, 1, 9), (3, 2, 1, 1, 0, 4), (2, 3, 4, 3, 2, 8)] {
            let conv = Conv2D(inChannels: c, filters: k, size: r, stride: s, pad: p, initializer: .he, rng: &rng)
            check("conv C\(c) K\(k) R\(r) s\(s) p\(p) on \(hw)×\(hw + 1)", conv, input: [3, c, hw, hw + 1])
        }
    }

    func testDirectConvolutionOfFewChannelsAcrossVectorWidths() {
        var rng = SeededRNG(seed: 6)
        for (c, h, w) in [(1, 4, 5), (3, 3, 17)] {
            let conv = Conv2D(inChannels: c, filters: 3, size: 3, stride: 1, pad: 1, initializer: .he, rng: &rng)
            XCTAssertTrue(conv.usesDirect)
            check("direct conv C\(c) K3 on \(h)×\(w)", conv, input: [2, c, h, w])
        }
    }

    func testWinogradConvolutionOnEvenAndOddSizes() {
        var rng = SeededRNG(seed: 4)
        for tile in Winograd.tileSizes {
            for (h, w) in [(4, 6), (5, 7), (8, 9)] {
                let conv = Conv2D(inChannels: 16, filters: 5, size: 3, stride: 1, pad: 1, initializer: .he, rng: &rng)
                conv.winogradTile = tile
                XCTAssertTrue(conv.usesWinograd)
                // The convolution is linear in x and in W, so central differences are exact at any
                // step; a large one keeps the Float rounding of the forward pass (F(6×6)'s constants
                // reach 32 and 1/180) out of the estimate.
                check("Winograd F\(tile) conv C16 K5 on \(h)×\(w)", conv, input: [2, 16, h, w], step: 0.5)
            }
        }
    }

    func testFusedConvolutionAndPoolOnOddMapsGivesTheTwoLayersOutputsAndGradients() {
        // On 13×13 the pool reads 12×12, which the fused step tiles by F(6×6), where the plain
        // convolution tiles all 13×13 by F(5×5); the filter gradient sums those tiles only (dy is
        // zero past them). On 7×9 the pool reads 6×8: F(6×6) again, against F(5×5) on all of it.
        // The two ways round differently, nothing more.
        var rng = SeededRNG(seed: 8)
        for (h, w) in [(13, 13), (7, 9)] {
            let tile = Winograd.tile(height: h & ~1, width: w & ~1)
            XCTAssertEqual([tile, Winograd.tile(height: h, width: w)], [6, 5])
            var (weights, sameWeights) = (rng, rng)
            let plain = Conv2D(inChannels: 8, filters: 4, size: 3, stride: 1, pad: 1, initializer: .he, rng: &rng)
            let fused = Conv2D(inChannels: 8, filters: 4, size: 3, stride: 1, pad: 1, initializer: .he, rng: &weights)
            let forced = Conv2D(inChannels: 8, filters: 4, size: 3, stride: 1, pad: 1, initializer: .he, rng: &sameWeights)
            forced.winogradTile = tile
            XCTAssertEqual(plain.W.value, fused.W.value)
            let (pool, fusedPool) = (MaxPool(size: 2), MaxPool(size: 2))
            let x = randomTensor([2, 8, h, w], &rng)
            let y = pool.forward(plain.forward(x, training: true), training: true)
            let fusedY = fused.forward(x, training: true, thenPool: fusedPool)
            let tag = "\(h)×\(w)"
            XCTAssertEqual(fusedPool.argmax, pool.argmax, tag)
            // The fused step took the pooled region's tile: its tiles are those of the whole map by that tile.
            XCTAssertEqual(fusedY.data, MaxPool(size: 2).forward(forced.forward(x, training: false), training: false).data, tag)
            let dy = randomTensor(y.shape, &rng)
            let dx = plain.backward(pool.backward(dy, needInputGrad: true), needInputGrad: true)
            let fusedDx = fused.backward(fusedPool.backward(dy, needInputGrad: true), needInputGrad: true)
            for (name, got, want) in [("y", fusedY.data, y.data), ("dx", fusedDx.data, dx.data), ("dW", fused.W.grad, plain.W.grad),
                                      ("db", fused.b.grad, plain.b.grad)] {
                let scale = want.map { abs(Double($0)) }.max() ?? 0
                let worst = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
                XCTAssertEqual(got.count, want.count, "\(tag) \(name)")
                XCTAssertLessThan(worst, 1e-4 * scale, "\(tag) \(name): differs by \(worst) of \(scale)")
            }
        }
    }

    func testPooling() {
        // Max pooling has kinks where two inputs tie; random normals are far enough apart for h.
        check("maxpool 2", MaxPool(size: 2), input: [2, 3, 6, 7], seed: 5, tolerance: 2e-2)
        check("maxpool 3", MaxPool(size: 3), input: [2, 2, 7, 6], seed: 6)
        check("avgpool 2", AvgPool(size: 2), input: [2, 3, 4, 5])
        check("global avgpool", AvgPool(global: true), input: [3, 4, 3, 5])
        check("flatten", Flatten(), input: [2, 3, 2, 2])
    }

    func testMaxPool2x2MatchesItsDefinitionOnEveryRowLength() {
        // Row lengths 1–3 (scalar), 4–7 and 8 or more (SIMD blocks, the last overlapping), odd widths
        // included. Distinct values, so no ties: y is the window maximum and dx routes dy to it alone.
        var rng = SeededRNG(seed: 12)
        for width in [2, 5, 8, 13, 16, 22, 23, 34] {
            let (B, C, H) = (2, 3, 6), OW = width / 2, OH = H / 2
            var values = (0 ..< B * C * H * width).map(Float.init)
            rng.shuffle(&values)
            let pool = MaxPool(size: 2)
            let y = pool.forward(Tensor(shape: [B, C, H, width], data: values), training: true)
            let dy = Tensor(shape: y.shape, data: (0 ..< y.count).map { Float($0 + 1) })
            let dx = pool.backward(dy, needInputGrad: true)
            var expectedY = [Float](), expectedDx = [Float](repeating: 0, count: values.count)
            for plane in 0 ..< B * C {
                for oh in 0 ..< OH {
                    for ow in 0 ..< OW {
                        let window = [0, 1, width, width + 1].map { plane * H * width + 2 * oh * width + 2 * ow + $0 }
                        let best = window.max { values[$0] < values[$1] }!
                        expectedY.append(values[best])
                        expectedDx[best] = Float(expectedY.count)
                    }
                }
            }
            XCTAssertEqual(y.data, expectedY, "maxpool 2 forward, width \(width)")
            XCTAssertEqual(dx.data, expectedDx, "maxpool 2 backward, width \(width)")
        }
    }

    func testDropoutPassesGradientThroughItsMask() {
        let d = Dropout(ratio: 0.4, seed: 9)
        var rng = SeededRNG(seed: 4)
        let x = Tensor(shape: [50, 40], data: (0 ..< 2000).map { _ in Float(rng.uniform(0.5, 1.5)) })
        let y = d.forward(x, training: true)
        let dropped = y.data.filter { $0 == 0 }.count
        XCTAssertEqual(Double(dropped) / 2000, 0.4, accuracy: 0.04)
        let dy = Tensor(shape: y.shape, data: [Float](repeating: 1, count: 2000))
        let dx = d.backward(dy, needInputGrad: true)
        for i in 0 ..< 2000 { XCTAssertEqual(dx.data[i], y.data[i] / x.data[i], accuracy: 1e-5) }
        // Inverted dropout: kept values are scaled so the expected output equals the input,
        // which is what inference (the identity) returns.
        XCTAssertEqual(Double(y.data.reduce(0, +)) / Double(x.data.reduce(0, +)), 1, accuracy: 0.05)
        XCTAssertEqual(d.forward(x, training: false).data, x.data)
    }

    func testSoftmaxCrossEntropyWithSoftTargetsAndSmoothing() {
        var rng = SeededRNG(seed: 7)
        var z = randomTensor([4, 5], &rng, scale: 2)
        var t = [Float](repeating: 0, count: 20)
        for i in 0 ..< 4 { t[i * 5 + i] = 0.7; t[i * 5 + (i + 1) % 5] = 0.3 }  // mixup-like targets
        for eps: Float in [0, 0.1] {
            let loss = SoftmaxCrossEntropy(smoothing: eps)
            let (_, g) = loss.lossAndGradient(logits: z, targets: t)
            for i in 0 ..< 20 {
                let orig = z.data[i]
                z.data[i] = orig + h; let up = Double(loss.lossAndGradient(logits: z, targets: t).loss)
                z.data[i] = orig - h; let down = Double(loss.lossAndGradient(logits: z, targets: t).loss)
                z.data[i] = orig
                let numeric = (up - down) / (2 * Double(h))
                XCTAssertLessThan(relativeError(numeric, Double(g.data[i])), 2e-2, "ε \(eps) dz[\(i)]: \(g.data[i]) vs \(numeric)")
            }
        }
        // Smoothing: loss against one-hot with ε equals loss against the smoothed targets with none.
        let onehot = SoftmaxCrossEntropy.oneHot([1, 0, 4, 2], classes: 5)
        let smoothed = onehot.map { 0.9 * $0 + 0.02 }
        XCTAssertEqual(SoftmaxCrossEntropy(smoothing: 0.1).lossAndGradient(logits: z, targets: onehot).loss,
                       SoftmaxCrossEntropy().lossAndGradient(logits: z, targets: smoothed).loss, accuracy: 1e-5)
    }

    func testValidationCrossEntropyIsTheMeanNegativeLogProbabilityOfTheLabel() {
        let p: [Float] = [0.5, 0.5, 0, 0.25, 0.75, 0, 0, 0, 1]
        XCTAssertEqual(SoftmaxCrossEntropy.meanCrossEntropy(probabilities: p, labels: [0, 1, 2]),
                       -(log(0.5) + log(0.75) + 0) / 3, accuracy: 1e-7)
        XCTAssertEqual(SoftmaxCrossEntropy.meanCrossEntropy(probabilities: [0, 1], labels: [0]), -log(1e-30), accuracy: 1e-3,
                       "a probability of 0 costs a finite amount")
        // The training loss without smoothing, from logits, is the same number.
        var rng = SeededRNG(seed: 8)
        let z = randomTensor([4, 5], &rng, scale: 2), labels: [UInt8] = [1, 0, 4, 2]
        XCTAssertEqual(SoftmaxCrossEntropy.meanCrossEntropy(probabilities: SoftmaxCrossEntropy.softmax(z).data, labels: labels),
                       Double(SoftmaxCrossEntropy().lossAndGradient(logits: z, targets: SoftmaxCrossEntropy.oneHot(labels, classes: 5)).loss),
                       accuracy: 1e-6)
    }

    func testWholeNetworkBackward() throws {
        try checkWholeNetwork("conv4s2-bn-relu-pool-conv3x3p0-relu-fc6-bn-sigmoid-fc3")
    }

    func testWholeAirbenchStyleNetworkBackward() throws {
        // Every layer and option of the recipe. (The whitening's input gradient is checked on its own above: a
        // convolution before it would be checked through its amplified directions, where steps of h cross the pools' kinks.)
        try checkWholeNetwork("whiten-gelu-conv6:dirac:nobias-pool-bn:noscale:momentum=0.4-gelu-"
                              + "conv6:dirac:nobias-bn:noscale:momentum=0.4-gelu-pool3-fc3:nobias:scale=0.11111111", fit: true)
    }

    func checkWholeNetwork(_ spec: String, fit: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let net = try Network(spec: spec, inputShape: [2, 11, 11], classes: 3, seed: 11)
        var rng = SeededRNG(seed: 12)
        let x = randomTensor([3, 2, 11, 11], &rng)
        if fit { net.fitWhitening(x) }
        let t = SoftmaxCrossEntropy.oneHot([0, 2, 1], classes: 3)
        let loss = SoftmaxCrossEntropy(smoothing: 0.1)
        net.backward(loss.lossAndGradient(logits: net.forward(x, training: true), targets: t).grad)
        var worst = 0.0
        for p in net.params {
            let analytic = p.grad
            for _ in 0 ..< 5 {
                let i = rng.int(below: p.value.count), orig = p.value[i]
                p.value[i] = orig + h; let up = Double(loss.lossAndGradient(logits: net.forward(x, training: true), targets: t).loss)
                p.value[i] = orig - h; let down = Double(loss.lossAndGradient(logits: net.forward(x, training: true), targets: t).loss)
                p.value[i] = orig
                let numeric = (up - down) / (2 * Double(h))
                let err = abs(numeric - Double(analytic[i])) / max(2e-3, abs(numeric) + abs(Double(analytic[i])))
                worst = max(worst, err)
                XCTAssertLessThan(err, 5e-2, "\(p.name)[\(i)]: analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
            }
        }
        print("gradient check whole network \(spec): worst relative error \(String(format: "%.2e", worst))")
    }
}
