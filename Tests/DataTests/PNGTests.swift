import Foundation
import XCTest
@testable import LE4Data
import TestSupport

final class PNGTests: XCTestCase {
    func testGrayAndRGBRoundTrip() throws {
        let dir = temporaryDirectory()
        var rng = SeededRNG(seed: 1)
        for channels in [1, 3] {
            let b = Bitmap(width: 7, height: 5, channels: channels, pixels: (0 ..< 35 * channels).map { _ in UInt8(rng.int(below: 256)) })
            try PNG.write(b, to: dir + "/x\(channels).png")
            XCTAssertEqual(try PNG.read(dir + "/x\(channels).png"), b)
        }
        // No temporary file is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["x1.png", "x3.png"])
    }

    func testPlanarImageBecomesInterleaved() {
        let planar: [UInt8] = [1, 2, 3, 4, 10, 20, 30, 40, 100, 101, 102, 103]  // 3 planes of 2×2
        let b = Bitmap(planar: planar[...], channels: 3, height: 2, width: 2)
        XCTAssertEqual(b.pixels, [1, 10, 100, 2, 20, 101, 3, 30, 102, 4, 40, 103])
    }

    func testContactSheetLayoutAndCaptions() throws {
        var sheet = ContactSheet(channels: 1, height: 4, width: 4, columns: 3, scale: 2)
        for i in 0 ..< 5 { sheet.add(ArraySlice([UInt8](repeating: UInt8(i * 50), count: 16)), caption: "\(i)") }
        let b = sheet.render()
        // 3 columns of (8 + 4) plus the margin; 2 rows of (8 + 4 + caption 8) plus the margin.
        XCTAssertEqual(b.width, 3 * 12 + 4)
        XCTAssertEqual(b.height, 2 * 20 + 4)
        XCTAssertEqual(b.pixels[((4 + 1) * b.width + 4 + 12 + 1) * 3], 50, "second cell holds the second image, scaled")
        XCTAssertTrue(b.pixels.contains(255), "captions are drawn in white")
        let path = temporaryDirectory() + "/sheet.png"
        try PNG.write(b, to: path)
        XCTAssertEqual(try PNG.read(path), b)
    }

    func testContactSheetWidensCellsToTheirCaptionsAndDrawsTheHeaderAndArrow() {
        var sheet = ContactSheet(channels: 1, height: 4, width: 4, columns: 2, scale: 2, textScale: 2)
        sheet.header = ["AB"]
        for i in 0 ..< 3 { sheet.add(ArraySlice([UInt8](repeating: 0, count: 16)), caption: "true 7 → 2\n#\(i)") }
        let b = sheet.render()
        // "TRUE 7 → 2" is 10 glyphs of 4 × 2 pixels: cells 80 + 4 wide, not the image's 8 + 4.
        XCTAssertEqual(b.width, 2 * 84 + 4)
        // Header line (5 + 2) × 2 plus the margin; 2 rows of image 8 + 4 and two caption lines 2 × 14 + 1.
        XCTAssertEqual(b.height, 18 + 2 * 41 + 4)
        func pixel(_ x: Int, _ y: Int) -> UInt8 { b.pixels[(y * b.width + x) * 3] }
        XCTAssertEqual(pixel(4 + 2, 4), 255, "the header's A: top row, middle column")
        // The arrow, the 8th glyph of the first caption (x 4 + 7 × 8, y below the header and the image):
        // its middle row is full, its top-left corner empty.
        let (ax, ay) = (4 + 7 * 8, 18 + 4 + 8 + 2)
        XCTAssertEqual(pixel(ax, ay + 2 * 2), 255)
        XCTAssertEqual(pixel(ax + 5, ay + 2 * 2), 255)
        XCTAssertEqual(pixel(ax, ay), 48)
    }

    func testNotAPNG() throws {
        let path = temporaryDirectory() + "/bad.png"
        try FileIO.writeAtomically("hello", to: path, as: .other)
        XCTAssertThrowsError(try PNG.read(path)) { XCTAssertTrue("\($0)".contains("not a readable PNG"), "\($0)") }
    }
}
