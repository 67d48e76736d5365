import Foundation
import XCTest
@testable import LE4Data
import TestSupport

final class FileIOTests: XCTestCase {
    func testWriteAtomicallyRefusesToReplaceAFIFOOrAFolder() throws {
        let dir = temporaryDirectory()
        let fifo = dir + "/pipe.npz"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try FileIO.writeAtomically("x", to: fifo, as: .other)) {
            XCTAssertTrue("\($0)".contains(fifo) && "\($0)".contains("is a FIFO"), "\($0)")
        }
        XCTAssertThrowsError(try FileIO.writeAtomically("x", to: dir, as: .other)) { XCTAssertTrue("\($0)".contains("is a folder"), "\($0)") }
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
        // The dead process's, a live one's (pid 1), another output's, and one of a dead pid on
        // another host of a shared folder, which may be alive there.
        let deadHere = FileIO.temporaryName("a.npz", pid: dead), live = FileIO.temporaryName("a.npz", pid: 1)
        let other = FileIO.temporaryName("b.npz", pid: dead), elsewhere = "a.npz.tmp-node7-\(dead)"
        for name in [deadHere, live, other, elsewhere] { try FileIO.writeAtomically("partial", to: dir + "/" + name, as: .other) }
        try FileIO.checkWritable(dir + "/a.npz", as: .model)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), [live, elsewhere, other].sorted(),
                       "the dead run's temporary of a.npz is gone; a live process's, another host's and another output's stay")
    }

    func testGunzipAllocatesForWhatItsInputCanHoldNotForWhatItDeclares() throws {
        // An empty gzip member (20 bytes) whose trailer claims 1 GiB: zlib refuses it at the end,
        // but a buffer sized by the trailer would have been allocated and zeroed first.
        let lying: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, /* deflate */ 3, 0, /* CRC-32 */ 0, 0, 0, 0, /* size */ 0, 0, 0, 0x40]
        func peakKiB() -> Int {
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return usage.ru_maxrss
        }
        let peakBefore = peakKiB()
        XCTAssertThrowsError(try FileIO.gunzip(lying, path: "lying.gz")) {
            XCTAssertTrue("\($0)".contains("lying.gz") && "\($0)".contains("corrupt gzip stream"), "\($0)")
        }
        XCTAssertLessThan(peakKiB() - peakBefore, 256 << 10, "peak memory grew by \(peakKiB() - peakBefore) KiB")
        // A zlib stream ends in its Adler-32, which the gzip trailer logic reads as a size (here 84 MB).
        let zlib: [UInt8] = [0x78, 0x9c, 0x33, 0x30, 0x34, 0x32, 0x36, 0x31, 0x35, 0x33, 0xb7, 0xb0, 0x4c, 0x4c,
                             0x4a, 0x4e, 0x49, 0x4d, 0x4b, 0xcf, 0xc8, 0xcc, 0x02, 0x00, 0x35, 0x07, 0x06, 0x05]
        let out = try FileIO.gunzip(zlib, path: "z")
        XCTAssertEqual(out, Array("0123456789abcdefghij".utf8))
        // Deflate expands at most 1032-fold; the allocator may round the reservation up a little.
        XCTAssertLessThan(out.capacity, 2 * 1032 * zlib.count, "the buffer is sized by the 84 MB the stream does not hold")
    }

    func testGunzipReadsEveryMemberOfAConcatenatedFileAndIgnoresPadding() throws {
        // gzip.compress(b"first member, ") and gzip.compress(b"second member"), as `cat a.gz b.gz` joins them.
        let first: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 203, 44, 42, 46, 81, 200, 77, 205, 77, 74, 45, 210, 81,
                              0, 0, 222, 255, 10, 98, 14, 0, 0, 0]
        let second: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 43, 78, 77, 206, 207, 75, 81, 200, 77, 205, 77, 74, 45, 2,
                               0, 36, 116, 250, 159, 13, 0, 0, 0]
        XCTAssertEqual(try FileIO.gunzip(first + second, path: "two.gz"), Array("first member, second member".utf8))
        XCTAssertEqual(try FileIO.gunzip(first + [0, 0, 0, 0], path: "padded.gz"), Array("first member, ".utf8))
        XCTAssertThrowsError(try FileIO.gunzip(first + second.prefix(20), path: "cut.gz")) {
            XCTAssertTrue("\($0)".contains("cut.gz") && "\($0)".contains("truncated"), "\($0)")
        }
    }
}
