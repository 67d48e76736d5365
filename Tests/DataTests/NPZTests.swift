import Foundation
import XCTest
@testable import LE4Data
import TestSupport

final class NPZTests: XCTestCase {
    func testRoundTripAndNumpyReadsIt() throws {
        let path = temporaryDirectory() + "/m.npz"
        let arrays: [(String, NPYArray)] = [
            ("conv0.W", NPYArray(shape: [2, 3], [1, -2, 3.5, 4, 5, 6])),
            ("arch", NPYArray("conv32-bn-relu-pool-fc10")),
            ("steps", NPYArray(shape: [1], values: .int64([42]))),
        ]
        try NPZ.write(arrays, to: path, as: .model)
        let back = try NPZ.read(path)
        XCTAssertEqual(back.map(\.0), arrays.map(\.0))
        XCTAssertEqual(back.map(\.1), arrays.map(\.1))
        let script = "import numpy as np; z = np.load('\(path)'); print(z['conv0.W'].tolist(), str(z['arch']), int(z['steps'][0]))"
        guard let (status, out) = try? runProcess("/usr/bin/env", ["python3", "-c", script]), status == 0 else {
            throw XCTSkip("python3 with numpy is not available")
        }
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines),
                       "[[1.0, -2.0, 3.5], [4.0, 5.0, 6.0]] conv32-bn-relu-pool-fc10 42")
    }

    func testReadsWhatNumpySavesCompressed() throws {
        let path = temporaryDirectory() + "/c.npz"
        let script = "import numpy as np; np.savez_compressed('\(path)', a=np.arange(6, dtype=np.float32).reshape(2, 3), b=np.array([7], dtype=np.int64))"
        guard let (status, _) = try? runProcess("/usr/bin/env", ["python3", "-c", script]), status == 0 else {
            throw XCTSkip("python3 with numpy is not available")
        }
        let z = try NPZ.read(path)
        XCTAssertEqual(z.map(\.0), ["a", "b"])
        XCTAssertEqual(z[0].1, NPYArray(shape: [2, 3], [0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(z[1].1.values, .int64([7]))
    }

    func testAMemberWithChangedBytesFailsItsCRCCheck() throws {
        let path = temporaryDirectory() + "/m.npz"
        try NPZ.write([("arch", NPYArray("fc10")), ("4.conv64.W", NPYArray(shape: [100], [Float](repeating: 0.5, count: 100)))], to: path, as: .model)
        var bytes = try FileIO.read(path)
        let at = bytes.count / 2  // inside the second member's floats
        bytes.replaceSubrange(at ..< at + 8, with: [UInt8](repeating: 0x7f, count: 8))
        try FileIO.writeAtomically(bytes, to: path, as: .other, policy: OutputPolicy(force: true))
        XCTAssertThrowsError(try NPZ.read(path)) {
            XCTAssertTrue("\($0)".contains("\(path): member '4.conv64.W.npy' is damaged: its data has CRC-32"), "\($0)")
        }
    }

    /// An archive of one stored member, and where its central directory entry and end record are.
    func oneMemberArchive() throws -> (bytes: [UInt8], entry: Range<Int>, eocd: Int) {
        let path = temporaryDirectory() + "/one.npz"
        try NPZ.write([("a", NPYArray(shape: [2], [1, 2]))], to: path, as: .model)
        let b = [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
        func u32(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
        let eocd = b.count - 22
        XCTAssertEqual(u32(eocd), 0x0605_4b50)
        let start = u32(eocd + 16)
        return (b, start ..< start + u32(eocd + 12), eocd)
    }

    func testMembersThatShareBytesAreRefusedBeforeInflating() throws {
        // A second directory entry pointing at the same data: the trick that turns one small
        // deflated member into many copies of gigabytes.
        let (b, entry, eocd) = try oneMemberArchive()
        var out = Array(b[..<entry.upperBound]) + Array(b[entry]) + Array(b[eocd...])
        let e = out.count - 22
        out[e + 8] = 2; out[e + 10] = 2                        // entries on this disk, in all
        let size = 2 * entry.count
        out[e + 12] = UInt8(size & 0xff); out[e + 13] = UInt8(size >> 8)
        let path = temporaryDirectory() + "/overlap.npz"
        try Foundation.Data(out).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try NPZ.read(path)) { XCTAssertTrue("\($0)".contains("share bytes"), "\($0)") }
    }

    func testAFullDirectoryIsCheckedForSharedBytesInLinearTime() throws {
        // 65,535 directory entries (the most a zip lists), all empty members at one local header:
        // 3 MB whose directory was compared pair by pair, 2 billion comparisons.
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0 ..< n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let local = le(0x0403_4b50, 4) + le(20, 2) + [UInt8](repeating: 0, count: 20) + le(1, 2) + le(0, 2) + [0x61]
        let entry = le(0x0201_4b50, 4) + le(20, 2) + le(20, 2) + [UInt8](repeating: 0, count: 20)
            + le(1, 2) + [UInt8](repeating: 0, count: 16) + [0x61]  // name "a", local header at 0
        let n = 65535
        var b = local
        for _ in 0 ..< n { b += entry }
        b += le(0x0605_4b50, 4) + le(0, 4) + le(n, 2) + le(n, 2) + le(n * entry.count, 4) + le(local.count, 4) + le(0, 2)
        let start = Date()
        XCTAssertThrowsError(try NPZ.decode(b, path: "full.npz")) {
            XCTAssertTrue("\($0)".contains("full.npz") && "\($0)".contains("not a .npy"), "\($0)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5, "reading the directory took seconds")
    }

    func testDeclaredSizesBeyondTheLimitAreRefusedBeforeInflating() throws {
        var (b, entry, _) = try oneMemberArchive()
        for i in 0 ..< 4 { b[entry.lowerBound + 24 + i] = 0xff }  // uncompressed size 4 GiB − 1
        let path = temporaryDirectory() + "/huge.npz"
        try Foundation.Data(b).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try NPZ.read(path)) { XCTAssertTrue("\($0)".contains("declares 4095 MiB"), "\($0)") }
    }

    func testNotAnNPZ() throws {
        let path = temporaryDirectory() + "/x.npz"
        try FileIO.writeAtomically("not a zip at all, but long enough to be searched for a directory", to: path, as: .other)
        XCTAssertThrowsError(try NPZ.read(path)) { XCTAssertTrue("\($0)".contains("not an .npz"), "\($0)") }
    }

    func testAMemberDeclaringMoreThanAModelArrayMayHoldIsRefusedBeforeItIsInflated() throws {
        // A zip bomb's directory: one deflated member declaring 1 GiB (1 MiB of deflate can hold it).
        var zip = try NPZ.encode([("big", NPYArray(shape: [1 << 18], [Float](repeating: 0, count: 1 << 18)))], path: "b")
        let central = try XCTUnwrap((0 ..< zip.count - 4).last { zip[$0 ..< $0 + 4] == [0x50, 0x4B, 1, 2] })
        func put32(_ v: Int, at o: Int) { for k in 0 ..< 4 { zip[o + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
        zip[central + 10] = 8  // deflate
        put32(1 << 30, at: central + 24)
        XCTAssertThrowsError(try NPZ.decode(zip, path: "bomb.npz")) {
            XCTAssertEqual("\($0)", "bomb.npz: member 'big.npy' declares 1024 MiB, more than the 256 MiB an array of a model may hold")
        }
        // Within the bound but more than its compressed bytes can hold: a lie, refused before inflating too.
        put32(300 << 20, at: central + 24)
        put32(1000, at: central + 20)
        XCTAssertThrowsError(try NPZ.decode(zip, path: "bomb.npz")) { XCTAssertTrue("\($0)".contains("declares"), "\($0)") }
    }
}
