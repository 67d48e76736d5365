import XCTest
@testable import Augment
import LE4Data

final class StrokeTests: XCTestCase {
    let g = ImageGeometry(channels: 1, height: 7, width: 9)

    /// A bright vertical line one pixel wide at column 4.
    var line: [Float] {
        var v = [Float](repeating: 0, count: g.count)
        for y in 0..<7 { v[g.index(0, y, 4)] = 1 }
        return v
    }

    func stroked(_ x: [Float], _ t: Float, _ g: ImageGeometry) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { StrokeWidth(amount: 1).apply(t, to: $0, geometry: g) }
        return out
    }

    func columns(_ v: [Float]) -> [Float] { (0..<9).map { v[g.index(0, 3, $0)] } }

    func testFullDilationWidensALineToThreePixelsAndFullErosionRemovesIt() {
        let thick = stroked(line, 1, g)
        for y in 0..<7 { XCTAssertEqual((0..<9).map { thick[g.index(0, y, $0)] }, [0, 0, 0, 1, 1, 1, 0, 0, 0], "row \(y)") }
        XCTAssertEqual(stroked(line, -1, g), [Float](repeating: 0, count: g.count))
    }

    func testPartialAmountsBlendTowardsDilationOrErosion() {
        XCTAssertEqual(columns(stroked(line, 0.25, g)), [0, 0, 0, 0.25, 1, 0.25, 0, 0, 0])
        XCTAssertEqual(columns(stroked(line, -0.25, g)), [0, 0, 0, 0, 0.75, 0, 0, 0, 0])
        XCTAssertEqual(stroked(line, 0, g), line)
    }

    /// Nothing is assumed outside the image: a bright image is not eaten from its border, and a
    /// corner pixel grows into the 2×2 block that fits.
    func testNeighbourhoodsAreClippedAtTheBorder() {
        let ones = [Float](repeating: 1, count: g.count)
        XCTAssertEqual(stroked(ones, -1, g), ones)
        var corner = [Float](repeating: 0, count: g.count)
        corner[g.index(0, 0, 0)] = 1
        let grown = stroked(corner, 1, g)
        XCTAssertEqual(grown.reduce(0, +), 4)
        XCTAssertEqual([grown[g.index(0, 0, 1)], grown[g.index(0, 1, 0)], grown[g.index(0, 1, 1)]], [1, 1, 1])
    }

    func testChannelsAreTreatedApart() {
        let g2 = ImageGeometry(channels: 2, height: 7, width: 9)
        var x = [Float](repeating: 0, count: g2.count)
        x[g2.index(1, 3, 4)] = 1
        let out = stroked(x, 1, g2)
        XCTAssert(out[0..<g2.plane].allSatisfy { $0 == 0 }, "channel 0 stays dark")
        XCTAssertEqual(out[g2.plane...].reduce(0, +), 9)
    }

    func testZeroAmountIsTheIdentityAndDrawsStayInRange() throws {
        let config = try AugmentConfig(parsing: "stroke:amount=0", channels: 1, height: 28, width: 28)
        var augmenter = Augmenter(config: config, channels: 1, height: 28, width: 28)
        let x = Synthetic.random(count: 3 * 784, seed: 1)
        XCTAssertEqual(augmented(&augmenter, x: x, targets: [], batch: 3, classes: 0, seed: 2).x, x)
        let stroke = StrokeWidth(amount: 0.3)
        var thicker = 0
        for s in 0..<1_000 {
            var rng = SeededRNG(seed: 2, stream: [UInt64(s)])
            let t = stroke.draw(&rng, geometry: g)
            XCTAssert(abs(t) <= 0.3, "\(t)")
            if t > 0 { thicker += 1 }
        }
        XCTAssertEqual(Double(thicker) / 1_000, 0.5, accuracy: 0.05, "as often thicker as thinner")
    }
}
