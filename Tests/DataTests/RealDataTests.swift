import Foundation
import XCTest
@testable import LE4Data
import TestSupport

/// The loaders on the real files of ../shared/data (see its SOURCES.md) and Debian's Fashion-MNIST.
final class RealDataTests: XCTestCase {
    func testMNIST() throws {
        let root = try requireDataRoot()
        let start = Date()
        let train = try Dataset.mnist.load(root: root, train: true)
        let seconds = Date().timeIntervalSince(start)
        print("MNIST training set (60,000 from .gz) loaded in \(String(format: "%.3f", seconds)) s")
        let test = try Dataset.mnist.load(root: root, train: false)
        XCTAssertEqual([train.count, train.height, train.width, test.count], [60000, 28, 28, 10000])
        XCTAssertEqual(train.labels.first, 5)
        XCTAssertEqual(test.labels.first, 7)
        XCTAssertEqual(train.classCounts(), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        XCTAssertEqual(test.classCounts(), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        // The first test image is a 7: row 7 starts its top bar (values read with NumPy from the same file).
        XCTAssertEqual(Array(test.pixels[7 * 28 + 6 ..< 7 * 28 + 12]), [84, 185, 159, 151, 60, 36])
        XCTAssertEqual(test.pixels[0 ..< 784].filter { $0 > 128 }.count, 71)
    }

    func testFashionMNIST() throws {
        let set: ImageSet
        do { set = try Dataset.fashion.load(root: nil, train: false) } catch {
            if ProcessInfo.processInfo.environment["LE4NN_REQUIRE_DATA"] == "1" { XCTFail("\(error)") }
            throw XCTSkip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): \(error)")
        }
        let train = try Dataset.fashion.load(root: nil, train: true)
        XCTAssertEqual([train.count, set.count, set.height, set.width], [60000, 10000, 28, 28])
        XCTAssertEqual(set.classCounts(), [Int](repeating: 1000, count: 10))
        XCTAssertEqual(train.classCounts(), [Int](repeating: 6000, count: 10))
    }

    func testCIFAR10FromTheJPEGSetAndThePartialOfficialPixels() throws {
        let root = try requireDataRoot("cifar-10-jpeg/test_batch")
        let start = Date()
        let train = try CIFAR10.read(folder: root + "/cifar-10-jpeg", train: true)
        let test = try CIFAR10.read(folder: root + "/cifar-10-jpeg", train: false)
        print("CIFAR-10 (all six batches) loaded in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual([train.count, test.count, train.channels, train.height], [50000, 10000, 3, 32])
        XCTAssertEqual(train.classNames, CIFAR10.defaultClassNames)
        XCTAssertEqual(train.classCounts(), [Int](repeating: 5000, count: 10))
        XCTAssertEqual(Array(train.labels.prefix(10)), [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])

        let official = try CIFAR10.readBatch(root + "/cifar-10-partial/data_batch_1.first4000")
        let officialTest = try CIFAR10.readBatch(root + "/cifar-10-partial/test_batch.first1000")
        XCTAssertEqual([official.count, officialTest.count], [4000, 1000])
        // Known official values: data_batch_1 row 0 (a frog) and test_batch row 0 (a cat).
        XCTAssertEqual(Array(official.pixels[0 ..< 3]), [59, 43, 50])
        XCTAssertEqual(Array(official.pixels[3069 ..< 3072]), [140, 84, 72])
        XCTAssertEqual(Array(officialTest.pixels[0 ..< 9]), [158, 159, 165, 166, 160, 156, 162, 159, 158])
        XCTAssertEqual(official.labels, Array(train.labels.prefix(4000)))
        // The JPEG copy is close to the official pixels (SOURCES.md: max mean difference 12.99).
        for i in stride(from: 0, to: 4000, by: 97) {
            var sum = 0
            for k in 0 ..< 3072 { sum += abs(Int(official.pixels[i * 3072 + k]) - Int(train.pixels[i * 3072 + k])) }
            XCTAssertLessThan(Double(sum) / 3072, 13, "image \(i)")
        }
    }
}
