import XCTest
@testable import Augment
import LE4Data

/// The table of augmentations: stream indices are part of every seeded run, so they are pinned here.
final class TableTests: XCTestCase {
    func testStreamIndicesAreFixedAndUnique() {
        let pinned: [String: UInt64] = ["crop": 0, "flip": 1, "erasing": 2, "cutout": 3, "mixup": 4,
                                        "affine": 5, "elastic": 6, "stroke": 7]
        for (name, k) in pinned {
            XCTAssertEqual(AugmentationTable.entry(named: name)?.stream, k, name)
        }
        let streams = AugmentationTable.entries.map(\.stream)
        XCTAssertEqual(Set(streams).count, streams.count, "stream indices must differ: \(streams)")
        XCTAssertFalse(streams.contains(Augmenter.batchStream))
    }

    func testNamesAreUniqueAndPerBatchOnesComeLast() {
        let names = AugmentationTable.entries.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "\(names)")
        XCTAssertFalse(names.contains("none"))
        let perBatch = AugmentationTable.entries.map(\.perBatch)
        XCTAssertEqual(perBatch, perBatch.sorted { !$0 && $1 }, "per-batch augmentations must follow the per-image ones: \(names)")
        XCTAssertEqual(AugmentationTable.entry(named: "mixup")?.perBatch, true)
        XCTAssertEqual(AugmentationTable.entry(named: "crop")?.perBatch, false)
    }

    /// Every entry's defaults parse back to themselves and are listed in the accepted syntax,
    /// with its summary; the `--help` catalogue names every entry.
    func testEveryEntryIsDocumentedAndItsDefaultsRoundTrip() throws {
        for (c, side) in [(1, 28), (3, 32)] {
            let g = ImageGeometry(channels: c, height: side, width: side)
            let syntax = AugmentConfig.acceptedSyntax(channels: c, height: side, width: side)
            for e in AugmentationTable.entries {
                let row = e.type.syntaxRow(geometry: g)
                XCTAssert(syntax.contains(row.spelling) && syntax.contains(e.type.summary), "\(e.name): \(syntax)")
                for key in e.type.keys { XCTAssert(row.rules.contains(key), "\(e.name) does not list \(key): \(row.rules)") }
                guard e.type.unavailable(for: g) == nil else { continue }
                let config = try AugmentConfig(parsing: e.name, channels: c, height: side, width: side)
                XCTAssertEqual(config.description, row.spelling)
                XCTAssertEqual(try AugmentConfig(parsing: row.spelling, channels: c, height: side, width: side), config)
            }
            XCTAssert(AugmentationTable.entries.allSatisfy { AugmentConfig.catalogue.contains("\($0.name) (") })
        }
    }

    /// Whatever the spelling order, the selection is applied (and spelt) in table order.
    func testSelectionFollowsTableOrder() throws {
        let names = AugmentationTable.entries.map(\.name).filter { $0 != "flip" }
        let config = try AugmentConfig(parsing: names.reversed().joined(separator: ","), channels: 1, height: 28, width: 28)
        XCTAssertEqual(config.steps.map(\.entry.name), names)
        XCTAssertEqual(config.description.split(separator: ",").map { String($0.prefix { $0 != ":" }) }, names)
    }
}
