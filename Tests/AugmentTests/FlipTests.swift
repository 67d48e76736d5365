import XCTest
@testable import Augment
import LE4Data

final class FlipTests: XCTestCase {
    func testFlipMirrorsEveryRow() {
        let g = ImageGeometry(channels: 3, height: 5, width: 7)
        let original = Synthetic.gradient(g)
        var image = original
        image.withUnsafeMutableBufferPointer { HorizontalFlip(p: 1).apply(true, to: $0, geometry: g) }
        for c in 0..<3 { for y in 0..<5 { for x in 0..<7 {
            XCTAssertEqual(image[g.index(c, y, x)], original[g.index(c, y, 6 - x)])
        }}}
        image.withUnsafeMutableBufferPointer { HorizontalFlip(p: 1).apply(false, to: $0, geometry: g) }
        XCTAssertNotEqual(image, original)
        image.withUnsafeMutableBufferPointer { HorizontalFlip(p: 1).apply(true, to: $0, geometry: g) }
        XCTAssertEqual(image, original, "flipping twice restores the image")
    }

    func testFlipProbability() {
        let g = ImageGeometry(channels: 3, height: 5, width: 7)
        let flip = HorizontalFlip(p: 0.5)
        var flips = 0
        for s in 0..<10_000 {
            var rng = SeededRNG(seed: 3, stream: [UInt64(s)])
            if flip.draw(&rng, geometry: g) { flips += 1 }
        }
        XCTAssertEqual(Double(flips) / 10_000, 0.5, accuracy: 0.02)
        var rng = SeededRNG(seed: 1)
        XCTAssertFalse(HorizontalFlip(p: 0).draw(&rng, geometry: g))
        XCTAssertTrue(HorizontalFlip(p: 1).draw(&rng, geometry: g))
    }

    func testFlipRejectedForOneChannel() {
        XCTAssertThrowsError(try AugmentConfig(parsing: "crop,flip", channels: 1, height: 28, width: 28)) { error in
            XCTAssert("\(error)".contains("flip is for colour images; digits must not be mirrored"), "\(error)")
        }
        XCTAssertNoThrow(try AugmentConfig(parsing: "crop,flip", channels: 3, height: 32, width: 32))
    }
}
