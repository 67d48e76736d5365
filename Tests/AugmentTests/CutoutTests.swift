import XCTest
@testable import Augment
import LE4Data

final class CutoutTests: XCTestCase {
    func testSquareClippedAndOnlyItIsZeroed() {
        let g = ImageGeometry(channels: 3, height: 20, width: 17)
        for size in [1, 6, 7] {
            let cutout = Cutout(size: size, fill: .zero)
            let original = Synthetic.gradient(g)
            var clipped = 0, whole = 0
            for s in 0..<500 {
                var rng = SeededRNG(seed: 8, stream: [UInt64(size), UInt64(s)])
                let p = cutout.draw(&rng, geometry: g)
                XCTAssert((0..<g.height).contains(p.centerY) && (0..<g.width).contains(p.centerX))
                let top = p.centerY - size / 2, left = p.centerX - size / 2
                XCTAssertEqual(p.rows, max(0, top)..<min(g.height, top + size))
                XCTAssertEqual(p.columns, max(0, left)..<min(g.width, left + size))
                XCTAssert(p.rows.contains(p.centerY) && p.columns.contains(p.centerX))
                if p.rows.count == size && p.columns.count == size { whole += 1 } else { clipped += 1 }
                var image = original
                image.withUnsafeMutableBufferPointer { cutout.apply(p, to: $0, geometry: g) }
                for c in 0..<3 { for y in 0..<g.height { for x in 0..<g.width {
                    let k = g.index(c, y, x)
                    XCTAssertEqual(image[k], p.rows.contains(y) && p.columns.contains(x) ? 0 : original[k])
                }}}
            }
            XCTAssertGreaterThan(whole, 0)
            if size > 1 { XCTAssertGreaterThan(clipped, 50, "centres near the border must clip the square") }
        }
    }

    func testMeanFill() {
        let g = ImageGeometry(channels: 3, height: 28, width: 28)
        let cutout = Cutout(size: 8, fill: .mean)
        let original = Synthetic.random(count: g.count, seed: 4)
        var rng = SeededRNG(seed: 2)
        let p = cutout.draw(&rng, geometry: g)
        var image = original
        image.withUnsafeMutableBufferPointer { cutout.apply(p, to: $0, geometry: g) }
        for c in 0..<3 {
            let mean = original[(c * g.plane)..<((c + 1) * g.plane)].reduce(0, +) / Float(g.plane)
            for y in 0..<g.height { for x in 0..<g.width {
                let k = g.index(c, y, x)
                if p.rows.contains(y) && p.columns.contains(x) {
                    XCTAssertEqual(image[k], mean, accuracy: 1e-5)
                } else {
                    XCTAssertEqual(image[k], original[k])
                }
            }}
        }
    }

    func testDefaultSizeFollowsImageSize() {
        XCTAssertEqual(Cutout.defaultSize(height: 28, width: 28), 8)
        XCTAssertEqual(Cutout.defaultSize(height: 32, width: 32), 16)
        XCTAssertEqual(try AugmentConfig(parsing: "cutout", channels: 3, height: 32, width: 32)[Cutout.self],
                       Cutout(size: 16, fill: .zero))
    }
}
