import Foundation
import XCTest
@testable import LE4Data
import TestSupport

/// The decoder against fixtures written by NumPy (and in the Python 2 forms), listed in manifest.json.
final class PickleTests: XCTestCase {
    struct Manifest: Decodable {
        struct ArrayCase: Decodable { let file: String; let dtype: String; let shape: [Int]; let fortran: Bool; let form: String; let expected: [Double] }
        struct DumpCase: Decodable { let file: String; let count: Int?; let expected_u1: [UInt8]?; let error: String? }
        struct CifarCase: Decodable { let file: String; let keys: String; let labels: [Int]?; let batch_label: String?; let label_names: [String]? }
        struct BadCase: Decodable { let file: String; let why: String; let offset: Int? }
        let arrays: [ArrayCase]
        let dumps: [DumpCase]
        let cifar: [CifarCase]
        let malicious: [BadCase]
    }

    lazy var manifest: Manifest = {
        let data = (try? Foundation.Data(contentsOf: URL(fileURLWithPath: fixturesDir + "/manifest.json"))) ?? Foundation.Data()
        return (try? JSONDecoder().decode(Manifest.self, from: data)) ?? Manifest(arrays: [], dumps: [], cifar: [], malicious: [])
    }()

    func testEveryProtocolAndDtypeDecodesToItsArray() throws {
        XCTAssertGreaterThanOrEqual(manifest.arrays.count, 40, "manifest.json missing or incomplete")
        var protocolsSeen = Set<String>()
        for c in manifest.arrays {
            let path = fixturesDir + "/" + c.file
            guard case .array(let a) = try Pickle.load(path) else { XCTFail("\(c.file): not an array"); continue }
            XCTAssertEqual(a.shape, c.shape, c.file)
            XCTAssertEqual(a.fortran, c.fortran, c.file)
            XCTAssertEqual(String(a.dtype.description.dropFirst()), c.dtype, c.file)
            XCTAssertEqual(a.doubles(), c.expected, c.file)
            protocolsSeen.insert(c.form + String(c.file.split(separator: "_").last ?? ""))
        }
        for p in 0 ... 5 { XCTAssertTrue(protocolsSeen.contains("py3p\(p).pkl"), "no protocol \(p) fixture") }
        for p in 0 ... 2 { XCTAssertTrue(protocolsSeen.contains("py2p\(p).pkl"), "no Python 2 protocol \(p) fixture") }
    }

    func testContestDumpsInEveryShapeAndScale() throws {
        XCTAssertEqual(manifest.dumps.count, 5)
        for c in manifest.dumps {
            let path = fixturesDir + "/" + c.file
            if c.error != nil {
                XCTAssertThrowsError(try ContestDump.read(path)) { e in
                    XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("28×28"), "\(e)")
                }
                continue
            }
            let set = try ContestDump.read(path)
            XCTAssertEqual(set.count, c.count, c.file)
            XCTAssertEqual(set.pixels, c.expected_u1, c.file)
            XCTAssertEqual([set.channels, set.height, set.width], [1, 28, 28])
        }
    }

    func testCifarBatchesWithBytesAndStrKeys() throws {
        for c in manifest.cifar {
            let path = fixturesDir + "/" + c.file
            if let names = c.label_names {
                XCTAssertEqual(try CIFAR10.readClassNames(path), names, c.file)
                continue
            }
            let set = try CIFAR10.readBatch(path)
            XCTAssertEqual(set.labels.map(Int.init), c.labels, c.file)
            XCTAssertEqual(set.count, 4)
            XCTAssertEqual(set.pixels, (0 ..< 12288).map { UInt8(($0 * 37) % 256) }, c.file)
            guard case .dict(let d) = try Pickle.load(path) else { return XCTFail() }
            XCTAssertEqual(d["batch_label"]?.text, c.batch_label)
        }
    }

    func testHostileAndBrokenPicklesAreRefusedWithTheirOffset() throws {
        XCTAssertEqual(manifest.malicious.count, 8)
        for c in manifest.malicious {
            let path = fixturesDir + "/" + c.file
            XCTAssertThrowsError(try Pickle.load(path), c.why) { e in
                let text = "\(e)"
                XCTAssertTrue(e is DataError && text.hasPrefix(path), text)
                if let off = c.offset { XCTAssertTrue(text.contains("at byte \(off)"), "\(c.file): \(text)") }
            }
        }
        XCTAssertThrowsError(try Pickle.load(fixturesDir + "/pickle/evil_os_system.pkl")) { XCTAssertTrue("\($0)".contains("'os.system' is not allowed"), "\($0)") }
        XCTAssertThrowsError(try Pickle.load(fixturesDir + "/pickle/evil_builtins_eval.pkl")) { XCTAssertTrue("\($0)".contains("builtins.eval"), "\($0)") }
        XCTAssertThrowsError(try Pickle.load(fixturesDir + "/pickle/deep_nesting.pkl")) { XCTAssertTrue("\($0)".contains("nesting deeper"), "\($0)") }
        XCTAssertThrowsError(try Pickle.load(fixturesDir + "/pickle/bad_length8.pkl")) { XCTAssertTrue("\($0)".contains("remain"), "\($0)") }
    }

    func testGrowingANestedListThroughTheMemoIsRefused() {
        // Two memoized empty lists; the second is appended into the first, then fetched from the
        // memo and grown: depth bookkeeping would go stale, so the decoder refuses it.
        let p: [UInt8] = [0x80, 2, 0x5d, 0x71, 0, 0x5d, 0x71, 1, 0x61, 0x68, 1, 0x5d, 0x61, 0x2e]
        XCTAssertThrowsError(try Pickle.decode(p, path: "memo.pkl")) {
            XCTAssertTrue("\($0)".contains("already inside another container"), "\($0)")
        }
    }

    func testAContainerPutInsideItselfIsRefused() {
        // EMPTY_LIST MEMOIZE DUP APPEND: the list appended to itself (found by Fuzz/run.sh pickle as a leak).
        let list: [UInt8] = [0x80, 4, 0x5d, 0x94, 0x32, 0x61, 0x2e]
        // EMPTY_DICT MEMOIZE 'k' BINGET 0 SETITEM: the dict stored in itself under 'k'.
        let dict: [UInt8] = [0x80, 4, 0x7d, 0x94, 0x8c, 1, 0x6b, 0x68, 0, 0x73, 0x2e]
        for (name, p) in [("list.pkl", list), ("dict.pkl", dict)] {
            XCTAssertThrowsError(try Pickle.decode(p, path: name)) {
                XCTAssertTrue("\($0)".contains(name) && "\($0)".contains("into itself"), "\($0)")
            }
        }
    }

    func testTuplesSharingATupleDecodeInLinearTime() throws {
        // None, then 24 times DUP TUPLE2: each tuple holds the one below twice, 53 bytes in all.
        // Walking the items for the nesting depth took 2^24 steps (seconds; at 60 levels, years).
        let p: [UInt8] = [0x80, 2, 0x4e] + Array(repeating: [0x32, 0x86], count: 24).joined() + [0x2e]
        let start = Date()
        var v = try Pickle.decode(p, path: "shared.pkl")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "decoding 53 bytes took seconds")
        for _ in 0 ..< 24 {
            guard case .tuple(let t) = v, t.count == 2 else { return XCTFail("\(v.kind)") }
            v = t[0]
        }
        guard case .none = v else { return XCTFail("\(v.kind)") }
    }

    func testOverflowingShapesAreErrorsNotTraps() {
        // _reconstruct(ndarray, (0,), b'b') with BUILD state (1, (2**61,), dtype('<f8'), False, b'')
        var p: [UInt8] = [0x80, 2] + Array("cnumpy.core.multiarray\n_reconstruct\n".utf8) + Array("cnumpy\nndarray\n".utf8)
        p += [0x4b, 0, 0x85, 0x55, 1, 0x62, 0x87, 0x52]  // (ndarray, (0,), b'b') REDUCE
        p += [0x28, 0x4b, 1, 0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x85]  // MARK 1 (2**61,)
        p += Array("cnumpy\ndtype\n".utf8) + [0x55, 2] + Array("f8".utf8) + [0x89, 0x88, 0x87, 0x52]
        p += [0x28, 0x4b, 3, 0x55, 1, 0x3c, 0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0, 0x74, 0x62]
        p += [0x89, 0x43, 0, 0x74, 0x62, 0x2e]  // False, b'' TUPLE BUILD STOP
        XCTAssertThrowsError(try Pickle.decode(p, path: "huge.pkl")) { XCTAssertTrue("\($0)".contains("huge.pkl"), "\($0)") }
        let npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 60, 0] + Array("{'descr': '<f4', 'fortran_order': False, 'shape': (1152921504606846976,), }".utf8.prefix(60))
        XCTAssertThrowsError(try NPYArray.parse(npy, name: "huge.npy"))
    }

    func testAFolderIsNotAFile() {
        XCTAssertThrowsError(try FileIO.read(fixturesDir)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    func testHandBuiltOpcodes() throws {
        // EMPTY_LIST, 10,000 times APPEND of nested lists via memo would nest deeply: refused by depth.
        var deep: [UInt8] = [0x80, 2]
        for _ in 0 ..< 100 { deep.append(0x5d) }  // 100 empty lists on the stack
        for _ in 0 ..< 99 { deep.append(0x61) }  // each appended into the one below
        deep.append(0x2e)
        XCTAssertThrowsError(try Pickle.decode(deep)) { XCTAssertTrue("\($0)".contains("nesting deeper"), "\($0)") }
        // A dict with an int, a negative LONG1, a float and a tuple.
        let p: [UInt8] = [0x80, 2, 0x7d, 0x28, 0x55, 1, 0x61, 0x8a, 2, 0x00, 0xff, 0x55, 1, 0x62,
                          0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x55, 1, 0x63, 0x4b, 7, 0x88, 0x86, 0x75, 0x2e]
        guard case .dict(let d) = try Pickle.decode(p) else { return XCTFail() }
        guard case .int(let a)? = d["a"], case .float(let b)? = d["b"], case .tuple(let t)? = d["c"] else { return XCTFail() }
        XCTAssertEqual(a, -256)
        XCTAssertEqual(b, 1.5)
        XCTAssertEqual(t.count, 2)
    }
}
