import XCTest
@testable import Augment
import LE4Data

final class ElasticTests: XCTestCase {
    let g = ImageGeometry(channels: 1, height: 28, width: 28)

    func testZeroAlphaIsExactlyTheIdentity() throws {
        let config = try AugmentConfig(parsing: "elastic:alpha=0", channels: 3, height: 12, width: 10)
        var augmenter = Augmenter(config: config, channels: 3, height: 12, width: 10)
        let x = Synthetic.random(count: 4 * 360, seed: 2)
        XCTAssertEqual(augmented(&augmenter, x: x, targets: [], batch: 4, classes: 0, seed: 5).x, x)
    }

    /// The separable, row-vectorised smoothing equals a plain 2-D convolution with the truncated,
    /// normalised Gaussian and zeros outside; the image is then sampled at (x + αΔx, y + αΔy).
    func testMatchesADirectTwoDimensionalReference() throws {
        let elastic = ElasticDistortion(alpha: 5, sigma: 2)
        let image = Synthetic.random(count: g.count, seed: 4)
        var out = image
        var rng = SeededRNG(seed: 9, stream: [1, 2])
        out.withUnsafeMutableBufferPointer { elastic.apply((), to: $0, rng: &rng, geometry: g) }

        var reference = SeededRNG(seed: 9, stream: [1, 2])
        let r = 6   // 3σ
        let kernel1 = (-r...r).map { exp(-Double($0 * $0) / 8) }, total = kernel1.reduce(0, +)
        func field() -> [Double] {
            let raw = (0..<g.plane).map { _ in Double(2 * reference.nextFloat() - 1) }
            var f = [Double](repeating: 0, count: g.plane)
            for y in 0..<28 { for x in 0..<28 {
                var s = 0.0
                for dy in -r...r { for dx in -r...r where (0..<28).contains(y + dy) && (0..<28).contains(x + dx) {
                    s += kernel1[dy + r] * kernel1[dx + r] / (total * total) * raw[(y + dy) * 28 + x + dx]
                }}
                f[y * 28 + x] = s
            }}
            return f
        }
        let fx = field(), fy = field()
        func pixel(_ y: Int, _ x: Int) -> Double {
            (0..<28).contains(y) && (0..<28).contains(x) ? Double(image[y * 28 + x]) : 0
        }
        var moved = 0
        for y in 0..<28 { for x in 0..<28 {
            let sx = Double(x) + 5 * fx[y * 28 + x], sy = Double(y) + 5 * fy[y * 28 + x]
            let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down)), ax = sx - Double(x0), ay = sy - Double(y0)
            let expected = (1 - ay) * ((1 - ax) * pixel(y0, x0) + ax * pixel(y0, x0 + 1))
                + ay * ((1 - ax) * pixel(y0 + 1, x0) + ax * pixel(y0 + 1, x0 + 1))
            XCTAssertEqual(Double(out[y * 28 + x]), expected, accuracy: 1e-4, "pixel (\(y), \(x))")
            if abs(sx - Double(x)) + abs(sy - Double(y)) > 0.1 { moved += 1 }
        }}
        XCTAssertGreaterThan(moved, 200, "most pixels should move")
    }

    /// |Δ| ≤ 1 (a weighted mean of values in [-1, 1]), so no pixel moves by more than α: a
    /// uniform image stays exactly uniform farther than α + 1 from the border.
    func testDisplacementIsBoundedByAlpha() throws {
        let config = try AugmentConfig(parsing: "elastic:alpha=3:sigma=1", channels: 1, height: 28, width: 28)
        var augmenter = Augmenter(config: config, channels: 1, height: 28, width: 28)
        let x = [Float](repeating: 0.7, count: 6 * 784)
        let out = augmented(&augmenter, x: x, targets: [], batch: 6, classes: 0, seed: 3).x
        for i in 0..<6 { for y in 4..<24 { for xx in 4..<24 {
            XCTAssertEqual(out[i * 784 + y * 28 + xx], 0.7, "image \(i) pixel (\(y), \(xx))")
        }}}
        XCTAssertLessThan(out.reduce(0, +), x.reduce(0, +), "background flows in at the border")
    }

    /// Simard's setting moves pixels by about 1.4 px per axis (RMS) in the middle of the image.
    func testSimardSettingMovesPixelsByAboutOneAndAHalfPixels() {
        let elastic = ElasticDistortion(alpha: 34, sigma: 4)
        // A horizontal ramp: the value is the column, so the sampled value gives x + Δx.
        var ramp = [Float](repeating: 0, count: g.count)
        for y in 0..<28 { for x in 0..<28 { ramp[y * 28 + x] = Float(x) } }
        var sumSq = 0.0, count = 0
        for s in 0..<200 {
            var out = ramp
            var rng = SeededRNG(seed: 8, stream: [UInt64(s)])
            out.withUnsafeMutableBufferPointer { elastic.apply((), to: $0, rng: &rng, geometry: g) }
            for y in 12..<16 { for x in 12..<16 {
                let d = Double(out[y * 28 + x]) - Double(x)
                sumSq += d * d; count += 1
            }}
        }
        XCTAssertEqual((sumSq / Double(count)).squareRoot(), 1.39, accuracy: 0.15)
    }
}
