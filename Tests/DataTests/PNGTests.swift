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

    func testNotAPNG() throws {
        let path = temporaryDirectory() + "/bad.png"
        try FileIO.writeAtomically("hello", to: path)
        XCTAssertThrowsError(try PNG.read(path)) { XCTAssertTrue("\($0)".contains("not a readable PNG"), "\($0)") }
    }
}
