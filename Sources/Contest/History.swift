import LE4Data

/// The per-epoch history of a run: a CSV for tools and a PNG plot for people.
enum History {
    static func write(_ epochs: [EpochStats], csv: String, plot: String) throws {
        var text = "epoch,loss,train_accuracy,validation_accuracy,learning_rate,images_per_second,seconds\n"
        for e in epochs {
            text += "\(e.epoch),\(e.loss),\(e.trainAccuracy),\(e.validationAccuracy.map { "\($0)" } ?? ""),"
                + "\(e.learningRate),\(Int(e.imagesPerSecond)),\(e.seconds)\n"
        }
        try FileIO.writeAtomically(text, to: csv)
        try PNG.write(render(epochs), to: plot)
    }

    /// Two panels: training cross-entropy (left), training and validation accuracy (right).
    static func render(_ epochs: [EpochStats]) -> Bitmap {
        let panelW = 300, panelH = 200, margin = 30
        var b = Bitmap(width: 2 * panelW + 3 * margin, height: panelH + 2 * margin, channels: 3,
                       pixels: [UInt8](repeating: 255, count: (2 * panelW + 3 * margin) * (panelH + 2 * margin) * 3))
        let black: [UInt8] = [0, 0, 0], blue: [UInt8] = [30, 90, 200], red: [UInt8] = [210, 50, 40]
        func panel(_ x0: Int, _ title: String, _ series: [([Double], [UInt8], String)]) {
            let values = series.flatMap(\.0)
            guard let lo = values.min(), let hi = values.max() else { return }
            let span = max(hi - lo, 1e-9)
            b.drawLine(x0, margin, x0, margin + panelH, color: black)
            b.drawLine(x0, margin + panelH, x0 + panelW, margin + panelH, color: black)
            b.drawText(title, x: x0, y: 8, color: black)
            b.drawText(String(format: "%.4g", hi), x: x0 + 4, y: margin + 2, color: black)
            b.drawText(String(format: "%.4g", lo), x: x0 + 4, y: margin + panelH - 8, color: black)
            b.drawText("EPOCH 1-\(epochs.count)", x: x0 + panelW - 60, y: margin + panelH + 6, color: black)
            for (k, (v, color, name)) in series.enumerated() {
                b.drawText(name, x: x0 + panelW - 90, y: margin + panelH / 2 + 8 * k, color: color)
                let pts = v.enumerated().map { i, y in
                    (x0 + (v.count > 1 ? i * panelW / (v.count - 1) : panelW / 2), margin + panelH - Int(Double(panelH) * (y - lo) / span))
                }
                for (p, q) in zip(pts, pts.dropFirst()) { b.drawLine(p.0, p.1, q.0, q.1, color: color) }
                for p in pts { for d in -1 ... 1 { b.setPixel(p.0 + d, p.1, color); b.setPixel(p.0, p.1 + d, color) } }
            }
        }
        panel(margin, "TRAINING CROSS-ENTROPY", [(epochs.map(\.loss), blue, "LOSS")])
        var acc = [(epochs.map { 100 * $0.trainAccuracy }, blue, "TRAIN %")]
        let val = epochs.compactMap(\.validationAccuracy)
        if val.count == epochs.count { acc.append((val.map { 100 * $0 }, red, "VALIDATION %")) }
        panel(2 * margin + panelW, "ACCURACY %", acc)
        return b
    }
}
