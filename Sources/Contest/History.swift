import LE4Data

/// The per-epoch history of a run: a CSV for tools and a PNG plot for people.
enum History {
    static func write(_ record: TrainRecord, csv: String, plot: String, policy: OutputPolicy = OutputPolicy()) throws {
        var text = FileKind.historyHeader + "\n"
        for e in record.history {
            let cells: [String] = [
                "\(e.epoch)", "\(e.loss)", "\(e.trainAccuracy)", e.validationLoss.map { "\($0)" } ?? "",
                e.validationAccuracy.map { "\($0)" } ?? "", "\(e.learningRate)", "\(Int(e.imagesPerSecond))", "\(e.seconds)",
            ]
            text += cells.joined(separator: ",") + "\n"
        }
        try FileIO.writeAtomically(text, to: csv, as: .history, policy: policy)
        try PNG.write(render(record), to: plot, policy: policy)
    }

    /// Two panels: cross-entropy (left) and accuracy (right), each for training and, when every
    /// epoch was validated, for validation. The legend says what differs: the training loss is
    /// that of the smoothed targets, and with --ema the validated model is the average.
    static func render(_ record: TrainRecord) -> Bitmap {
        let epochs = record.history, s = record.settings
        let panelW = 440, panelH = 300, margin = 16
        let width = 2 * panelW + 3 * margin, height = panelH + 2 * margin
        var b = Bitmap(width: width, height: height, channels: 3, pixels: [UInt8](repeating: 255, count: width * height * 3))
        let blue: [UInt8] = [30, 90, 200], red: [UInt8] = [210, 50, 40]
        let trainName = s.smoothing > 0 ? "TRAIN (SMOOTHING \(s.smoothing))" : "TRAIN"
        let validationName = s.ema == nil ? "VALIDATION" : "VALIDATION (EMA)"
        // A validation series only when every epoch has a value (validation is all or nothing in a run).
        func validation(_ value: (EpochStats) -> Double?) -> [Double]? {
            let v = epochs.compactMap(value)
            return !v.isEmpty && v.count == epochs.count ? v : nil
        }
        var loss = [LineChart.Series(name: trainName, values: epochs.map(\.loss), color: blue)]
        if let v = validation(\.validationLoss) { loss.append(LineChart.Series(name: validationName, values: v, color: red)) }
        var accuracy = [LineChart.Series(name: "TRAIN", values: epochs.map { 100 * $0.trainAccuracy }, color: blue)]
        if let v = validation(\.validationAccuracy) {
            accuracy.append(LineChart.Series(name: validationName, values: v.map { 100 * $0 }, color: red))
        }
        LineChart(title: "CROSS-ENTROPY", xTitle: "EPOCH", series: loss)
            .draw(on: &b, x: margin, y: margin, width: panelW, height: panelH)
        LineChart(title: "ACCURACY %", xTitle: "EPOCH", series: accuracy)
            .draw(on: &b, x: 2 * margin + panelW, y: margin, width: panelW, height: panelH)
        return b
    }
}
