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
        try NPZ.write(arrays, to: path)
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
        try NPZ.write([("arch", NPYArray("fc10")), ("4.conv64.W", NPYArray(shape: [100], [Float](repeating: 0.5, count: 100)))], to: path)
        var bytes = try FileIO.read(path)
        let at = bytes.count / 2  // inside the second member's floats
        bytes.replaceSubrange(at ..< at + 8, with: [UInt8](repeating: 0x7f, count: 8))
        try FileIO.writeAtomically(bytes, to: path)
        XCTAssertThrowsError(try NPZ.read(path)) {
            XCTAssertTrue("\($0)".contains("\(path): member '4.conv64.W.npy' is damaged: its data has CRC-32"), "\($0)")
        }
    }

    func testNotAnNPZ() throws {
        let path = temporaryDirectory() + "/x.npz"
        try FileIO.writeAtomically("not a zip at all, but long enough to be searched for a directory", to: path)
        XCTAssertThrowsError(try NPZ.read(path)) { XCTAssertTrue("\($0)".contains("not an .npz"), "\($0)") }
    }
}
