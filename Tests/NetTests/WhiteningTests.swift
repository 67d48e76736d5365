import XCTest
@testable import Net
import LE4Data
import TestSupport

final class WhiteningTests: XCTestCase {
    func testJacobiFindsTheEigenvectorsOfASymmetricMatrix() {
        var rng = SeededRNG(seed: 1)
        let n = 7
        var a = [Double](repeating: 0, count: n * n)
        for i in 0 ..< n { for j in i ..< n { let v = rng.normal(); a[i * n + j] = v; a[j * n + i] = v } }
        let (values, vectors) = PatchWhitening.symmetricEigen(a, n)
        for k in 0 ..< n {
            let v = Array(vectors[k * n ..< (k + 1) * n])
            XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12, "unit length")
            for i in 0 ..< n {
                let av = (0 ..< n).reduce(0) { $0 + a[i * n + $1] * v[$1] }
                XCTAssertEqual(av, values[k] * v[i], accuracy: 1e-10, "A·v = λ·v, vector \(k) row \(i)")
            }
        }
    }

    /// Images whose 2×2 patches are strongly correlated (smooth, colours alike) and far from zero mean, as pixels are.
    func smoothImages(_ n: Int, seed: UInt64) -> Tensor {
        var rng = SeededRNG(seed: seed)
        let (C, H, W) = (3, 9, 8)
        var x = [Float](repeating: 0, count: n * C * H * W)
        for b in 0 ..< n {
            let base = (0 ..< (H + 1) * (W + 1)).map { _ in rng.uniform(0, 1) }
            for c in 0 ..< C {
                for i in 0 ..< H {
                    for j in 0 ..< W {
                        let smooth = (base[i * (W + 1) + j] + base[i * (W + 1) + j + 1] + base[(i + 1) * (W + 1) + j]) / 3
                        x[((b * C + c) * H + i) * W + j] = Float(0.5 + 0.3 * smooth + 0.05 * Double(c) * rng.uniform(0, 1))
                    }
                }
            }
        }
        return Tensor(shape: [n, C, H, W], data: x)
    }

    func testWhitenedPatchesHaveZeroMeanAndIdentityCovarianceAndTheirNegatives() {
        var rng = SeededRNG(seed: 2)
        let whitening = PatchWhitening(inChannels: 3, size: 2, epsilon: 0, rng: &rng)
        let x = smoothImages(200, seed: 3)
        whitening.fit(x)
        let y = whitening.forward(x, training: false)
        XCTAssertEqual(y.shape, [200, 24, 8, 7])
        // Covariance of the first 12 channels over every output pixel: the identity.
        let d = 12, P = 8 * 7, count = Double(200 * P)
        var mean = [Double](repeating: 0, count: d), second = [Double](repeating: 0, count: d * d)
        for b in 0 ..< 200 {
            for p in 0 ..< P {
                let v = (0 ..< d).map { Double(y.data[(b * 24 + $0) * P + p]) }
                for i in 0 ..< d { mean[i] += v[i] / count; for j in 0 ..< d { second[i * d + j] += v[i] * v[j] / count } }
                for i in 0 ..< d { XCTAssertEqual(y.data[(b * 24 + d + i) * P + p], -y.data[(b * 24 + i) * P + p], "channel \(d + i) is −channel \(i)") }
            }
        }
        for i in 0 ..< d {
            XCTAssertEqual(mean[i], 0, accuracy: 1e-3, "mean of channel \(i)")
            for j in 0 ..< d { XCTAssertEqual(second[i * d + j], i == j ? 1 : 0, accuracy: 2e-2, "covariance [\(i), \(j)]") }
        }
    }

    func testFittingTwiceGivesTheSameFiltersAndEpsilonDampsTheSmallestDirections() {
        var rng = SeededRNG(seed: 4)
        let a = PatchWhitening(inChannels: 3, size: 2, rng: &rng), b = PatchWhitening(inChannels: 3, size: 2, rng: &rng)
        let x = smoothImages(150, seed: 5)  // 150 images: three blocks of 64, the last partial
        a.fit(x); b.fit(x)
        XCTAssertEqual(a.buffers.map(\.value), b.buffers.map(\.value))
        let undamped = PatchWhitening(inChannels: 3, size: 2, epsilon: 0, rng: &rng)
        let damped = PatchWhitening(inChannels: 3, size: 2, epsilon: 0.01, rng: &rng)
        undamped.fit(x)
        damped.fit(x)
        // Rows are ordered by eigenvalue, largest first: ε barely changes the first and shrinks the last.
        func norm(_ w: PatchWhitening, _ k: Int) -> Float { (0 ..< 12).reduce(0) { $0 + w.conv.W.value[k * 12 + $1] * w.conv.W.value[k * 12 + $1] }.squareRoot() }
        XCTAssertEqual(norm(damped, 0), norm(undamped, 0), accuracy: 1e-2 * norm(undamped, 0))
        XCTAssertLessThan(norm(damped, 11), 0.9 * norm(undamped, 11))
        XCTAssertLessThan(norm(a, 11), norm(undamped, 11))
        XCTAssertLessThan(norm(undamped, 0), norm(undamped, 11), "the largest eigenvalue comes first, so its filter is the shortest")
        // The option of the spec: kept in the spec (and so in model files), refused out of range.
        let net = try? Network(spec: "whiten:eps=0.01-gelu-fc10", inputShape: [3, 8, 8], classes: 10, seed: 1)
        XCTAssertEqual(net?.spec, "whiten:eps=0.01-gelu-fc10")
        XCTAssertEqual((net?.layers.first as? PatchWhitening)?.epsilon, 0.01)
        XCTAssertThrowsError(try Network(spec: "whiten:eps=0-fc10", inputShape: [3, 8, 8], classes: 10, seed: 1))
    }

    func testNetworkFitsItsWhiteningLayerAndTheModelFileKeepsIt() throws {
        let net = try Network(spec: "whiten-gelu-conv4:dirac:nobias-bn:noscale-gelu-pool3-fc10:nobias:scale=0.11111111",
                              inputShape: [3, 9, 8], classes: 10, seed: 1)
        XCTAssertTrue(net.needsWhitening)
        XCTAssertTrue(net.params.allSatisfy { !$0.name.contains("whiten") }, "frozen: not a parameter")
        XCTAssertEqual(net.buffers.prefix(2).map(\.name), ["0.whiten.W", "0.whiten.b"])
        let x = smoothImages(20, seed: 6)
        net.fitWhitening(x)
        XCTAssertNotEqual(net.buffers[0].value, [Float](repeating: 0, count: 24 * 12))
        let path = temporaryDirectory() + "/whiten.npz"
        try ModelFile.save(net, meta: "{}", to: path)
        let loaded = try ModelFile.load(path).network
        XCTAssertEqual(loaded.forward(x, training: false).data, net.forward(x, training: false).data)
    }
}
