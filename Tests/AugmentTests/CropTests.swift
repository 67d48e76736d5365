import XCTest
@testable import Augment
import LE4Data

final class CropTests: XCTestCase {
    /// Independent mirror (numpy "reflect") for checking.
    private func mirror(_ i: Int, _ n: Int) -> Int {
        var i = i
        while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
        return i
    }

    private func check(mode: RandomCrop.Mode) {
        let g = ImageGeometry(channels: 3, height: 7, width: 9)   // non-square catches H/W mix-ups
        let crop = RandomCrop(pad: 3, mode: mode)
        let original = Synthetic.gradient(g)
        var scratch = [Float](repeating: .nan, count: g.count)
        var sawShift = false
        for s in 0..<300 {
            var rng = SeededRNG(seed: 11, stream: [UInt64(s)])
            let p = crop.draw(&rng, geometry: g)
            XCTAssert((-3...3).contains(p.dx) && (-3...3).contains(p.dy))
            sawShift = sawShift || (p.dx != 0 && p.dy != 0)
            var image = original
            withBuffers(&image, &scratch) { crop.apply(p, to: $0, rng: &rng, scratch: $1, geometry: g) }
            for c in 0..<3 { for y in 0..<7 { for x in 0..<9 {
                let sy = y + p.dy, sx = x + p.dx
                let expected: Float
                if (0..<7).contains(sy) && (0..<9).contains(sx) {
                    expected = original[g.index(c, sy, sx)]
                } else if mode == .zero {
                    expected = 0
                } else {
                    expected = original[g.index(c, mirror(sy, 7), mirror(sx, 9))]
                }
                if image[g.index(c, y, x)] != expected {
                    XCTFail("\(mode) crop dx=\(p.dx) dy=\(p.dy): pixel (\(c),\(y),\(x)) = \(image[g.index(c, y, x)]), expected \(expected)")
                    return
                }
            }}}
        }
        XCTAssert(sawShift)
    }

    func testZeroCropIsShiftWithZeroBorder() { check(mode: .zero) }
    func testReflectCropMirrors() { check(mode: .reflect) }

    func testReflectByHand() {
        // Row [a b c d] shifted by dx = -2 reflects to [c b a b]; dx = +2 gives [c d c b].
        let g = ImageGeometry(channels: 1, height: 1, width: 4)
        let crop = RandomCrop(pad: 2, mode: .reflect)
        var scratch = [Float](repeating: 0, count: 4)
        var unused = SeededRNG(seed: 0)
        var row: [Float] = [0.1, 0.2, 0.3, 0.4]
        withBuffers(&row, &scratch) { crop.apply(.init(dx: -2, dy: 0), to: $0, rng: &unused, scratch: $1, geometry: g) }
        XCTAssertEqual(row, [0.3, 0.2, 0.1, 0.2])
        row = [0.1, 0.2, 0.3, 0.4]
        withBuffers(&row, &scratch) { crop.apply(.init(dx: 2, dy: 0), to: $0, rng: &unused, scratch: $1, geometry: g) }
        XCTAssertEqual(row, [0.3, 0.4, 0.3, 0.2])
        row = [0.1, 0.2, 0.3, 0.4]
        withBuffers(&row, &scratch) { RandomCrop(pad: 2, mode: .zero).apply(.init(dx: 2, dy: 0), to: $0, rng: &unused, scratch: $1, geometry: g) }
        XCTAssertEqual(row, [0.3, 0.4, 0, 0])
    }

    func testOffsetsAreUniformOverRange() {
        let crop = RandomCrop(pad: 2, mode: .zero)
        var counts = [Int](repeating: 0, count: 5)
        let draws = 10_000
        for s in 0..<draws {
            var rng = SeededRNG(seed: 5, stream: [UInt64(s)])
            let p = crop.draw(&rng, geometry: ImageGeometry(channels: 1, height: 28, width: 28))
            counts[p.dx + 2] += 1
            counts[p.dy + 2] += 1
        }
        for c in counts { XCTAssertEqual(Double(c) / Double(2 * draws), 0.2, accuracy: 0.02) }
    }

    func testDefaultPadFollowsImageSize() {
        XCTAssertEqual(RandomCrop.defaultPad(height: 28, width: 28), 2)
        XCTAssertEqual(RandomCrop.defaultPad(height: 32, width: 32), 4)
        let mnist = try! AugmentConfig(parsing: "crop", channels: 1, height: 28, width: 28)
        XCTAssertEqual(mnist[RandomCrop.self], RandomCrop(pad: 2, mode: .zero))
        let cifar = try! AugmentConfig(parsing: "crop", channels: 3, height: 32, width: 32)
        XCTAssertEqual(cifar[RandomCrop.self], RandomCrop(pad: 4, mode: .zero))
    }
}
