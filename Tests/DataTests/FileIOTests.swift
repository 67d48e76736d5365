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

    func testCheckWritableRemovesTemporariesOfDeadProcessesOnly() throws {
        let dir = temporaryDirectory()
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        for name in ["a.npz.tmp-\(dead)", "a.npz.tmp-1", "b.npz.tmp-\(dead)"] { try FileIO.writeAtomically("partial", to: dir + "/" + name) }
        try FileIO.checkWritable(dir + "/a.npz")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["a.npz.tmp-1", "b.npz.tmp-\(dead)"],
                       "the dead run's temporary of a.npz is gone; a live process's and another output's stay")
    }
}
