import Foundation
import XCTest
@testable import LE4Data
import TestSupport

final class FileIOTests: XCTestCase {
    func testWriteAtomicallyRefusesToReplaceAFIFOOrAFolder() throws {
        let dir = temporaryDirectory()
        let fifo = dir + "/pipe.npz"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try FileIO.writeAtomically("x", to: fifo)) {
            XCTAssertTrue("\($0)".contains(fifo) && "\($0)".contains("is a FIFO"), "\($0)")
        }
        XCTAssertThrowsError(try FileIO.writeAtomically("x", to: dir)) { XCTAssertTrue("\($0)".contains("is a folder"), "\($0)") }
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["pipe.npz"], "no temporary left behind")
    }
}
