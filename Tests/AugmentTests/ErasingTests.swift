import XCTest
@testable import Augment
import LE4Data

final class ErasingTests: XCTestCase {
    let g = ImageGeometry(channels: 3, height: 28, width: 24)

    func testRectangleWithinBoundsAndOnlyItChanges() {
        let erasing = RandomErasing(p: 1, smin: 0.02, smax: 0.33, rmin: 0.3, rmax: 3.3)
        let original = Synthetic.gradient(g)
        let total = Double(g.plane)
        var erased = 0
        for s in 0..<2_000 {
            var rng = SeededRNG(seed: 21, stream: [UInt64(s)])
            guard let p = erasing.draw(&rng, geometry: g) else { continue }
            erased += 1
            // Drawn area fraction and ratio inside their bounds; the rectangle follows from them.
            XCTAssert((0.02...0.33).contains(p.area), "area \(p.area)")
            XCTAssert((0.3...3.3).contains(p.ratio), "ratio \(p.ratio)")
            XCTAssertEqual(p.height, Int((p.area * total * p.ratio).squareRoot().rounded()))
            XCTAssertEqual(p.width, Int((p.area * total / p.ratio).squareRoot().rounded()))
            // The realised fraction and ratio only move by the rounding to whole pixels (|h - H| <= 1/2).
            let h = Double(p.height), w = Double(p.width), slack = (h + w + 1) / 2 + 0.25
            XCTAssertGreaterThanOrEqual(h * w, 0.02 * total - slack)
            XCTAssertLessThanOrEqual(h * w, 0.33 * total + slack)
            XCTAssertGreaterThanOrEqual(h / w, 0.3 * h / (h + 0.5) * (w - 0.5) / w)
            XCTAssertLessThanOrEqual(h / w, 3.3 * h / (h - 0.5) * (w + 0.5) / w)
            XCTAssert(p.x >= 0 && p.y >= 0 && p.x + p.width <= g.width && p.y + p.height <= g.height)

            var image = original
            var fill = rng   // the fill values are the stream's next floats
            image.withUnsafeMutableBufferPointer { erasing.apply(p, to: $0, rng: &rng, geometry: g) }
            for c in 0..<3 { for y in 0..<g.height { for x in 0..<g.width {
                let k = g.index(c, y, x)
                let inside = (p.y..<(p.y + p.height)).contains(y) && (p.x..<(p.x + p.width)).contains(x)
                if !inside { XCTAssertEqual(image[k], original[k]) }
            }}}
            for c in 0..<3 { for y in p.y..<(p.y + p.height) { for x in p.x..<(p.x + p.width) {
                let v = image[g.index(c, y, x)]
                XCTAssertEqual(v, fill.nextFloat())
                XCTAssert(v >= 0 && v < 1)
            }}}
        }
        XCTAssertGreaterThan(erased, 1_900, "nearly every draw should find a rectangle that fits")
    }

    func testEraseProbability() {
        for p in [0.5, 0.3] {
            let erasing = RandomErasing(p: p, smin: 0.02, smax: 0.33, rmin: 0.3, rmax: 3.3)
            var erased = 0
            for s in 0..<10_000 {
                var rng = SeededRNG(seed: 99, stream: [UInt64(s)])
                if erasing.draw(&rng, geometry: g) != nil { erased += 1 }
            }
            XCTAssertEqual(Double(erased) / 10_000, p, accuracy: 0.02)
        }
    }

    func testSkipsWhenNothingFits() {
        // Every shape is 49 rows tall on a 28-row image.
        let erasing = RandomErasing(p: 1, smin: 1, smax: 1, rmin: 3, rmax: 3)
        let g1 = ImageGeometry(channels: 1, height: 28, width: 28)
        for s in 0..<100 {
            var rng = SeededRNG(seed: 1, stream: [UInt64(s)])
            XCTAssertNil(erasing.draw(&rng, geometry: g1))
        }
    }
}
