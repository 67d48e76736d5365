import XCTest
@testable import LE4Data

/// Axes of the history plots: round ticks that cover the data, labels, and where the chart draws.
final class LineChartTests: XCTestCase {
    func testTicksAreRoundStepsCoveringTheRange() {
        XCTAssertEqual(LineChart.ticks(lo: 0.02, hi: 0.35), [0, 0.1, 0.2, 0.3, 0.4])
        XCTAssertEqual(LineChart.ticks(lo: 97.6, hi: 99.3), [97.5, 98, 98.5, 99, 99.5])
        XCTAssertEqual(LineChart.ticks(lo: 66.7, hi: 97.4), [60, 70, 80, 90, 100])
        XCTAssertEqual(LineChart.ticks(lo: -3, hi: 3), [-4, -2, 0, 2, 4])
    }

    func testARangeBeyondDoubleGetsNoTicksInsteadOfACrash() {
        XCTAssertEqual(LineChart.ticks(lo: -Double.greatestFiniteMagnitude, hi: .greatestFiniteMagnitude), [])
    }

    func testAFlatSeriesGetsDistinctTicksAroundItsValue() {
        for value in [1.872, 0, -5, 99.5] {
            let ticks = LineChart.ticks(lo: value, hi: value)
            XCTAssertGreaterThanOrEqual(ticks.count, 3, "\(value): \(ticks)")
            XCTAssertLessThan(ticks.first ?? .nan, value)
            XCTAssertGreaterThan(ticks.last ?? .nan, value)
            XCTAssertEqual(Set(LineChart.labels(ticks)).count, ticks.count, "distinct labels for \(value): \(LineChart.labels(ticks))")
        }
        XCTAssertEqual(LineChart.labels(LineChart.ticks(lo: 1.872, hi: 1.872)), ["1.75", "1.80", "1.85", "1.90", "1.95", "2.00"])
    }

    func testLabelsHaveTheDecimalsOfTheirStepAndNoNegativeZero() {
        XCTAssertEqual(LineChart.labels([0, 0.05, 0.1]), ["0.00", "0.05", "0.10"])
        XCTAssertEqual(LineChart.labels([97.5, 98, 98.5]), ["97.5", "98.0", "98.5"])
        XCTAssertEqual(LineChart.labels([0, 20, 40]), ["0", "20", "40"])
        XCTAssertEqual(LineChart.labels(LineChart.ticks(lo: -0.3, hi: 0.3)), ["-0.4", "-0.2", "0.0", "0.2", "0.4"])
    }

    func testEpochTicksAreEveryEpochUpToEightThenRoundSteps() {
        XCTAssertEqual(LineChart.integerTicks(upTo: 1), [1])
        XCTAssertEqual(LineChart.integerTicks(upTo: 3), [1, 2, 3])
        XCTAssertEqual(LineChart.integerTicks(upTo: 8), Array(1 ... 8))
        XCTAssertEqual(LineChart.integerTicks(upTo: 12), [2, 4, 6, 8, 10, 12])
        XCTAssertEqual(LineChart.integerTicks(upTo: 50), [10, 20, 30, 40, 50])
    }

    func testDrawingPutsSeriesGridAndLabelsInsideItsRectangleOnly() {
        let red: [UInt8] = [210, 50, 40], blue: [UInt8] = [30, 90, 200]
        let chart = LineChart(title: "LOSS", xTitle: "EPOCH", series: [
            LineChart.Series(name: "TRAIN", values: [1.4, 0.8, 0.7], color: blue),
            LineChart.Series(name: "VALIDATION", values: [0.24, 0.19, 0.18], color: red),
        ])
        var b = Bitmap(width: 500, height: 340, channels: 3, pixels: [UInt8](repeating: 255, count: 500 * 340 * 3))
        chart.draw(on: &b, x: 30, y: 20, width: 440, height: 300)
        func pixels(where test: ([UInt8], Int, Int) -> Bool) -> Int {
            var n = 0
            for y in 0 ..< b.height {
                for x in 0 ..< b.width {
                    let o = (y * b.width + x) * 3
                    if test(Array(b.pixels[o ..< o + 3]), x, y) { n += 1 }
                }
            }
            return n
        }
        XCTAssertGreaterThan(pixels { c, _, _ in c == red }, 200, "the validation line and legend")
        XCTAssertGreaterThan(pixels { c, _, _ in c == blue }, 200, "the training line and legend")
        XCTAssertGreaterThan(pixels { c, _, _ in c == [222, 222, 222] }, 1000, "grid lines")
        XCTAssertGreaterThan(pixels { c, _, _ in c == [0, 0, 0] }, 500, "axes, ticks and labels")
        XCTAssertEqual(pixels { c, x, y in c != [255, 255, 255] && !(30 ..< 470 ~= x && 20 ..< 320 ~= y) }, 0,
                       "nothing outside the chart's rectangle")
    }

    func testAChartWithoutValuesDrawsOnlyItsTitleAndLegend() {
        var b = Bitmap(width: 200, height: 100, channels: 3, pixels: [UInt8](repeating: 255, count: 200 * 100 * 3))
        LineChart(title: "T", xTitle: "EPOCH", series: [LineChart.Series(name: "A", values: [], color: [0, 0, 255])])
            .draw(on: &b, x: 0, y: 0, width: 200, height: 100)
        XCTAssertFalse(b.pixels.enumerated().contains { i, v in i / 3 / 200 >= 30 && v != 255 }, "nothing below the legend")
    }
}
