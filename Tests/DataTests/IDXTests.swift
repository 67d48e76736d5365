import XCTest
@testable import LE4Data
import TestSupport

final class IDXTests: XCTestCase {
    let dir = fixturesDir + "/idx/"

    func testRawAndGzipFixtures() throws {
        for suffix in ["", ".gz"] {
            let set = try IDX.readSet(images: dir + "tiny-images-idx3-ubyte" + suffix,
                                      labels: dir + "tiny-labels-idx1-ubyte" + suffix, classNames: (0 ... 9).map(String.init))
            XCTAssertEqual([set.count, set.channels, set.height, set.width], [3, 1, 4, 5])
            XCTAssertEqual(set.pixels, (0 ..< 60).map { UInt8(($0 * 37) % 256) })
            XCTAssertEqual(set.labels, [5, 0, 4])
        }
    }

    func testBadFilesNameTheFileAndTheProblem() {
        let cases: [(String, String, String)] = [
            ("bad-magic-idx3-ubyte", "tiny-labels-idx1-ubyte", "found magic 0x00000804 (rank 4)"),
            ("truncated-images-idx3-ubyte", "tiny-labels-idx1-ubyte", "truncated"),
            ("tiny-images-idx3-ubyte", "count-mismatch-labels-idx1-ubyte", "has 2 labels but"),
            ("corrupt-images-idx3-ubyte.gz", "tiny-labels-idx1-ubyte", "corrupt gzip stream"),
            ("wrong-rank-idx1-as-images", "tiny-labels-idx1-ubyte", "rank 2"),
            ("tiny-labels-idx1-ubyte", "tiny-labels-idx1-ubyte", "expected an IDX images file (magic 0x00000803), found magic 0x00000801"),
        ]
        for (images, labels, expected) in cases {
            XCTAssertThrowsError(try IDX.readSet(images: dir + images, labels: dir + labels, classNames: (0 ... 9).map(String.init))) { e in
                XCTAssertTrue("\(e)".contains(expected) && "\(e)".contains(dir), "\(images): \(e)")
            }
        }
        XCTAssertThrowsError(try IDX.readImages(dir + "no-such-file")) { XCTAssertTrue("\($0)".contains("cannot open"), "\($0)") }
    }

    func testTruncatedGzipIsAnError() throws {
        let gz = try FileIO.read(dir + "tiny-images-idx3-ubyte.gz")
        XCTAssertThrowsError(try FileIO.gunzip(Array(gz.prefix(gz.count / 2)), path: "half.gz")) {
            XCTAssertTrue("\($0)".contains("half.gz"), "\($0)")
        }
    }
}
