import Foundation
import XCTest
import LE4Data
import TestSupport
@testable import Contest

/// What a run records: settings and per-epoch statistics in the model's meta, the history CSV and plot.
final class HistoryTests: XCTestCase {
    func settings(ema: Float? = nil) -> TrainSettings {
        TrainSettings(dataset: "mnist", net: "fc10", optimizer: "momentum", learningRate: 0.05, beta1: 0.9, beta2: 0.999,
                      epsilon: 1e-8, weightDecay: 5e-4, l1: 0, schedule: "onecycle", epochs: 2, batch: 100, augment: "none",
                      smoothing: 0.1, validation: 500, initializer: "he", seed: 1, trainLimit: nil, ema: ema)
    }

    func epoch(_ n: Int, validation: Bool = true) -> EpochStats {
        EpochStats(epoch: n, loss: 0.9 / Double(n), trainAccuracy: 0.8 + 0.05 * Double(n),
                   validationLoss: validation ? 0.3 / Double(n) : nil, validationAccuracy: validation ? 0.9 + 0.02 * Double(n) : nil,
                   learningRate: 0.01, imagesPerSecond: 1000, seconds: 2)
    }

    func testARecordWrittenBeforeValidationLossAndEMADecodes() throws {
        let old = """
        {"bestEpoch":1,"bestValidationAccuracy":0.97,"epochsDone":1,"history":[{"epoch":1,"imagesPerSecond":3000,\
        "learningRate":0.01,"loss":0.8,"seconds":2,"trainAccuracy":0.9,"validationAccuracy":0.97}],"seconds":2,\
        "settings":{"augment":"none","batch":100,"beta1":0.9,"beta2":0.999,"dataset":"mnist","epochs":1,"epsilon":1e-08,\
        "initializer":"he","l1":0,"learningRate":0.05,"net":"fc10","optimizer":"momentum","schedule":"onecycle","seed":1,\
        "smoothing":0.1,"validation":500,"weightDecay":0.0005},"threads":2}
        """
        let record = try JSONDecoder().decode(TrainRecord.self, from: Foundation.Data(old.utf8))
        XCTAssertNil(record.settings.ema)
        XCTAssertNil(record.history[0].validationLoss)
        XCTAssertEqual(record.history[0].validationAccuracy, 0.97)
    }

    func testSettingsWithoutEMAEncodeAsBeforeSoContestMembersKeepTheirNames() throws {
        XCTAssertFalse(try json(settings()).contains("ema"), "no key for the default: the member hash is unchanged")
        XCTAssertTrue(try json(settings(ema: 0.999)).contains("\"ema\":0.999"))
        XCTAssertNotEqual(settings(), settings(ema: 0.999), "the decay identifies a member")
    }

    func testCSVHasTheValidationLossColumnAndEmptyCellsWithoutValidation() throws {
        let dir = temporaryDirectory()
        var record = TrainRecord(settings: settings(), epochsDone: 2, bestEpoch: 2, bestValidationAccuracy: 0.94,
                                 history: [epoch(1), epoch(2)], seconds: 4, threads: 2)
        try History.write(record, csv: dir + "/h.csv", plot: dir + "/h.png")
        var rows = try String(contentsOfFile: dir + "/h.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows[0][3], "validation_loss")
        XCTAssertEqual(rows[0][4], "validation_accuracy")
        XCTAssertEqual(Double(rows[2][3]), 0.15)
        XCTAssertEqual(try PNG.read(dir + "/h.png"), History.render(record))

        record.history = [epoch(1, validation: false)]
        try History.write(record, csv: dir + "/h.csv", plot: dir + "/h.png")
        rows = try String(contentsOfFile: dir + "/h.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows[1].count, 8)
        XCTAssertEqual(rows[1][3], "")
        XCTAssertEqual(rows[1][4], "")
    }

    /// Pixels of `color` in the left and the right half of the plot.
    func count(_ color: [UInt8], in b: Bitmap) -> (left: Int, right: Int) {
        var left = 0, right = 0
        for y in 0 ..< b.height {
            for x in 0 ..< b.width where Array(b.pixels[(y * b.width + x) * 3 ..< (y * b.width + x) * 3 + 3]) == color {
                if x < b.width / 2 { left += 1 } else { right += 1 }
            }
        }
        return (left, right)
    }

    func testPlotShowsTrainingAndValidationInBothPanels() {
        let red: [UInt8] = [210, 50, 40], blue: [UInt8] = [30, 90, 200]
        for epochs in [[epoch(1)], [epoch(1), epoch(2), epoch(3)]] {
            let plot = History.render(TrainRecord(settings: settings(ema: 0.99), epochsDone: epochs.count, bestEpoch: 1,
                                                  bestValidationAccuracy: nil, history: epochs, seconds: 1, threads: 2))
            let (redLeft, redRight) = count(red, in: plot), (blueLeft, blueRight) = count(blue, in: plot)
            XCTAssertGreaterThan(min(redLeft, redRight, blueLeft, blueRight), 100,
                                 "\(epochs.count) epochs: validation \(redLeft)/\(redRight), training \(blueLeft)/\(blueRight) pixels")
        }
        let trainOnly = History.render(TrainRecord(settings: settings(), epochsDone: 1, bestEpoch: 1, bestValidationAccuracy: nil,
                                                   history: [epoch(1, validation: false)], seconds: 1, threads: 2))
        XCTAssertEqual(count(red, in: trainOnly).left + count(red, in: trainOnly).right, 0, "no validation series without validation")
    }
}
