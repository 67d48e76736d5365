import XCTest
import LE4Data
@testable import Contest

/// The views `--tta` averages: which images, moved how, with what weight.
final class TestTimeViewTests: XCTestCase {
    /// One image of `channels`×3×3 whose pixel (c, y, x) is 100c + 10y + x.
    func numbered(channels: Int) -> ImageSet {
        var pixels: [UInt8] = []
        for c in 0 ..< channels { for y in 0 ..< 3 { for x in 0 ..< 3 { pixels.append(UInt8(100 * c + 10 * y + x)) } } }
        return ImageSet(count: 1, channels: channels, height: 3, width: 3, pixels: pixels, labels: [0], classNames: ["a"])
    }

    func testMirrorableImagesGetAirbenchsSixViewsWithReflectedOnePixelMoves() {
        let set = numbered(channels: 3)
        let views = testTimeViews(of: set, mirrorable: true)
        XCTAssertEqual(views.map(\.weight), [0.25, 0.25, 0.125, 0.125, 0.125, 0.125])
        XCTAssertEqual(views[0].images.pixels, set.pixels)
        // The mirror: rows reversed in every channel.
        XCTAssertEqual(Array(views[1].images.pixels[..<9]), [2, 1, 0, 12, 11, 10, 22, 21, 20])
        // Moved up-left (dx = dy = −1): pixel (y, x) is (y + 1, x + 1); the last row and column
        // reflect about the edge, so they repeat the second-to-last ones' sources.
        XCTAssertEqual(Array(views[2].images.pixels[..<9]), [11, 12, 11, 21, 22, 21, 11, 12, 11])
        // Moved down-right: pixel (y, x) is (y − 1, x − 1), row and column −1 reflected to 1.
        XCTAssertEqual(Array(views[4].images.pixels[..<9]), [11, 10, 11, 1, 0, 1, 11, 10, 11])
        // The mirror moved down-right, in the second channel.
        XCTAssertEqual(Array(views[5].images.pixels[9 ..< 18]), [111, 112, 111, 101, 102, 101, 111, 112, 111])
    }

    func testDigitsGetFiveOnePixelShiftsWithZeroBordersAndNoMirror() {
        let set = numbered(channels: 1)
        let views = testTimeViews(of: set, mirrorable: false)
        XCTAssertEqual(views.map(\.weight), [0.2, 0.2, 0.2, 0.2, 0.2])
        XCTAssertEqual(views[0].images.pixels, set.pixels)
        XCTAssertEqual(views[1].images.pixels, [0, 0, 1, 0, 10, 11, 0, 20, 21], "moved right by one")
        XCTAssertEqual(views[4].images.pixels, [10, 11, 12, 20, 21, 22, 0, 0, 0], "moved up by one")
    }
}
