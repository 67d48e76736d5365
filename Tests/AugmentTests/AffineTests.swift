import XCTest
@testable import Augment
import LE4Data

final class AffineTests: XCTestCase {
    /// 9×9 so that the centre is pixel (4, 4).
    let g = ImageGeometry(channels: 1, height: 9, width: 9)
    let identity = RandomAffine.Params(angle: 0, zoom: 1, shear: 0, dx: 0, dy: 0)

    func image(lit pixels: [(y: Int, x: Int)], _ g: ImageGeometry) -> [Float] {
        var v = [Float](repeating: 0, count: g.count)
        for p in pixels { v[g.index(0, p.y, p.x)] = 1 }
        return v
    }

    func transformed(_ input: [Float], _ p: RandomAffine.Params, _ g: ImageGeometry) -> [Float] {
        var out = input
        out.withUnsafeMutableBufferPointer { RandomAffine.defaults(for: g).apply(p, to: $0, geometry: g) }
        return out
    }

    func testZeroStrengthIsExactlyTheIdentity() throws {
        let g3 = ImageGeometry(channels: 3, height: 7, width: 10)
        let x = Synthetic.random(count: g3.count, seed: 6)
        XCTAssertEqual(transformed(x, identity, g3), x)
        let config = try AugmentConfig(parsing: "affine:rotate=0:scale=0:shear=0:shift=0", channels: 1, height: 28, width: 28)
        var augmenter = Augmenter(config: config, channels: 1, height: 28, width: 28)
        let batch = Synthetic.random(count: 5 * 784, seed: 7)
        XCTAssertEqual(augmented(&augmenter, x: batch, targets: [], batch: 5, classes: 0, seed: 1).x, batch)
    }

    /// A quarter turn clockwise (as displayed, rows running down) takes row y, column x to
    /// row x, column 8 - y: an L becomes a Γ mirrored, every pixel where `rot90` puts it.
    func testQuarterTurnTurnsAnLClockwise() {
        let l = image(lit: [(2, 2), (3, 2), (4, 2), (5, 2), (6, 2), (6, 3), (6, 4), (6, 5)], g)
        let out = transformed(l, .init(angle: 90, zoom: 1, shear: 0, dx: 0, dy: 0), g)
        for y in 0..<9 {
            for x in 0..<9 {
                XCTAssertEqual(out[g.index(0, x, 8 - y)], l[g.index(0, y, x)], accuracy: 1e-5, "from (\(y), \(x))")
            }
        }
        // The top of the bar, (2, 2), is now at the right: (2, 6).
        XCTAssertEqual(out[g.index(0, 2, 6)], 1, accuracy: 1e-5)
    }

    func testZoomMovesPointsAwayFromTheCentreAndInterpolates() {
        // One pixel right of the centre; zoom 2 puts it two right, and the pixel between is
        // sampled half-way between the centre (0) and it (1).
        let out = transformed(image(lit: [(4, 5)], g), .init(angle: 0, zoom: 2, shear: 0, dx: 0, dy: 0), g)
        XCTAssertEqual(out[g.index(0, 4, 6)], 1, accuracy: 1e-6)
        XCTAssertEqual(out[g.index(0, 4, 5)], 0.5, accuracy: 1e-6)
        XCTAssertEqual(out[g.index(0, 4, 7)], 0.5, accuracy: 1e-6)
        XCTAssertEqual(out.reduce(0, +), 4, accuracy: 1e-5, "zoom 2 spreads a pixel's mass over zoom² = 4 times the area")
        // Zoom 1/2 brings a pixel four below the centre to two below; output pixels sample every
        // other input pixel, so nothing else lights up.
        let half = transformed(image(lit: [(8, 4)], g), .init(angle: 0, zoom: 0.5, shear: 0, dx: 0, dy: 0), g)
        XCTAssertEqual(half, image(lit: [(6, 4)], g))
    }

    func testShiftAndShearMoveAPixelWhereExpected() {
        let shifted = transformed(image(lit: [(4, 4)], g), .init(angle: 0, zoom: 1, shear: 0, dx: 2, dy: -1), g)
        XCTAssertEqual(shifted, image(lit: [(3, 6)], g))
        // Shear k: x moves by k·(y - centre), so two rows below the centre a pixel moves right by 2k.
        let sheared = transformed(image(lit: [(6, 4), (2, 4)], g), .init(angle: 0, zoom: 1, shear: 1, dx: 0, dy: 0), g)
        XCTAssertEqual(sheared[g.index(0, 6, 6)], 1, accuracy: 1e-6)
        XCTAssertEqual(sheared[g.index(0, 2, 2)], 1, accuracy: 1e-6)
        XCTAssertEqual(sheared.reduce(0, +), 2, accuracy: 1e-5)
    }

    func testWhatComesFromOutsideIsBackground() {
        let ones = [Float](repeating: 1, count: g.count)
        let out = transformed(ones, .init(angle: 0, zoom: 1, shear: 0, dx: 3, dy: 0), g)
        for y in 0..<9 {
            for x in 0..<9 { XCTAssertEqual(out[g.index(0, y, x)], x < 3 ? 0 : 1, "(\(y), \(x))") }
        }
    }

    func testDrawsStayWithinTheirRanges() {
        let affine = RandomAffine(rotate: 10, scale: 0.2, shear: 0.3, shift: 0.1)
        let g28 = ImageGeometry(channels: 1, height: 28, width: 28)
        var extremes = (angle: 0.0, zoom: 1.0, shear: 0.0, dx: 0.0)
        for s in 0..<2_000 {
            var rng = SeededRNG(seed: 3, stream: [UInt64(s)])
            let p = affine.draw(&rng, geometry: g28)
            XCTAssert(abs(p.angle) <= 10 && abs(p.zoom - 1) <= 0.2 && abs(p.shear) <= 0.3, "\(p)")
            XCTAssert(abs(p.dx) <= 2.8 && abs(p.dy) <= 2.8, "\(p)")
            extremes = (max(extremes.angle, abs(p.angle)), max(extremes.zoom, p.zoom), max(extremes.shear, abs(p.shear)),
                        max(extremes.dx, abs(p.dx)))
        }
        XCTAssert(extremes.angle > 9.5 && extremes.zoom > 1.19 && extremes.shear > 0.28 && extremes.dx > 2.6,
                  "the ranges are used to their ends: \(extremes)")
    }
}
