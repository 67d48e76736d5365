import Foundation
import XCTest
@testable import LE4Data
import TestSupport

final class OutputPolicyTests: XCTestCase {
    func testFileKindIsRecognisedFromTheContentsOfEachOutputAndNotFromTheName() throws {
        let dir = temporaryDirectory()
        func kind(_ name: String, _ bytes: [UInt8]) throws -> FileKind? {
            let path = dir + "/" + name
            try Foundation.Data(bytes).write(to: URL(fileURLWithPath: path))
            return FileKind.of(path, size: bytes.count)
        }
        let model = try NPZ.encode([("arch", NPYArray("fc10")), ("meta", NPYArray("{}"))], path: "m")
        XCTAssertEqual(try kind("m.txt", model), .model)
        XCTAssertEqual(try kind("a.npz", try NPZ.encode([("a", NPYArray(shape: [1], [1]))], path: "a")), .other, "numpy's own npz")
        XCTAssertEqual(try kind("a.npz", Array("3\n1\n4\n".utf8)), .answers)
        XCTAssertEqual(try kind("a.txt", Array("3\n1\n4".utf8)), .other, "an answer file ends every line")
        XCTAssertEqual(try kind("a.txt", Array("3\n\n4\n".utf8)), .other, "and has no empty lines")
        XCTAssertEqual(try kind("h.csv", Array((FileKind.historyHeader + "\n1,0.5\n").utf8)), .history)
        XCTAssertEqual(try kind("t.csv", Array((FileKind.tableHeader + "\n").utf8)), .table)
        XCTAssertEqual(try kind("s.json", Array(#"{"answers": "a.txt", "members": []}"#.utf8)), .sidecar)
        XCTAssertEqual(try kind("notes.json", Array(#"{"answers": 42}"#.utf8)), .other)
        let png = try PNG.encode(Bitmap(width: 3, height: 2, channels: 3))
        XCTAssertEqual(try kind("p.png", png), .image)
        var untagged = png
        untagged.removeSubrange(33 ..< 33 + PNG.tag.count)
        XCTAssertEqual(try kind("q.png", untagged), .other, "a PNG another program wrote")
        XCTAssertEqual(try PNG.read(dir + "/p.png"), Bitmap(width: 3, height: 2, channels: 3), "the tag leaves the PNG readable")
        XCTAssertNil(try kind("empty", []), "an empty file holds nothing to lose")
    }

    func testAnInputIsRecognisedThroughLinksAndOtherSpellings() throws {
        let dir = temporaryDirectory()
        try FileIO.writeAtomically("3\n", to: dir + "/in.txt", as: .answers)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/sub/up", withDestinationPath: dir)
        let policy = OutputPolicy(inputs: [dir + "/in.txt", dir + "/absent"])
        for spelling in [dir + "/in.txt", dir + "/sub/../in.txt", dir + "/sub/up/in.txt", dir + "//in.txt"] {
            XCTAssertThrowsError(try FileIO.writeAtomically("4\n", to: spelling, as: .answers, policy: policy)) {
                XCTAssertTrue("\($0)".contains("is an input of this command"), "\(spelling): \($0)")
            }
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "/in.txt", encoding: .utf8), "3\n")
        XCTAssertNoThrow(try FileIO.writeAtomically("4\n", to: dir + "/out.txt", as: .answers, policy: policy))
    }

    func testAFailedCommandRemovesOnlyTheEmptyFoldersItCreated() throws {
        let dir = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/had", withIntermediateDirectories: true)
        do {
            let folders = CreatedFolders()
            try folders.make(dir + "/had/a/b")
            try folders.makeParent(of: dir + "/c/d/file.npz")
            try FileIO.writeAtomically("kept", to: dir + "/c/x", as: .other)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["c", "had"], "c holds a file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/had"), [], "a and b were removed, had was there")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/c"), ["x"])
        do {
            let folders = CreatedFolders()
            try folders.make(dir + "/new/one")
            folders.kept = true
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/new/one"), "a command that succeeded keeps its folders")
        XCTAssertThrowsError(try CreatedFolders().make(dir + "/c/x/y")) { XCTAssertTrue("\($0)".contains("is a file, not a folder"), "\($0)") }
    }
}
