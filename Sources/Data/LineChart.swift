import Foundation

/// A line chart of series over x = 1, 2, 3, ... (epochs): axes with round ticks, grid lines,
/// tick labels, a title and a legend, drawn with the 3×5 font on a `Bitmap`.
public struct LineChart {
    /// One line: a value for each x = 1 ... values.count.
    public struct Series {
        public var name: String
        public var values: [Double]
        /// RGB.
        public var color: [UInt8]
        public init(name: String, values: [Double], color: [UInt8]) { self.name = name; self.values = values; self.color = color }
    }

    public var title: String
    /// Name of the x axis, drawn under its tick labels.
    public var xTitle: String
    public var series: [Series]
    /// Size of each font pixel: 2 is readable on a screen without zooming.
    public var textScale = 2

    public init(title: String, xTitle: String, series: [Series]) {
        self.title = title; self.xTitle = xTitle; self.series = series
    }

    /// Draws the chart into the rectangle at (x, y) of `width`×`height` pixels of an RGB `bitmap`:
    /// the title and the legend above the plot, y tick labels to its left, x tick labels and
    /// `xTitle` below it.
    public func draw(on bitmap: inout Bitmap, x: Int, y: Int, width: Int, height: Int) {
        let s = textScale, line = (Font.height + 2) * s
        let black: [UInt8] = [0, 0, 0], grid: [UInt8] = [222, 222, 222]
        bitmap.drawText(title, x: x, y: y, maxWidth: width, color: black, scale: s)
        var legendX = x
        for item in series {
            for d in 0 ..< s { bitmap.drawLine(legendX, y + line + 2 * s + d, legendX + 6 * s, y + line + 2 * s + d, color: item.color) }
            bitmap.drawText(item.name, x: legendX + 8 * s, y: y + line, color: item.color, scale: s)
            legendX += 8 * s + Font.width(item.name, scale: s) + 6 * s
        }

        let finite = series.flatMap(\.values).filter(\.isFinite)
        let count = series.map(\.values.count).max() ?? 0
        guard let lo = finite.min(), let hi = finite.max(), count > 0 else { return }
        let yTicks = LineChart.ticks(lo: lo, hi: hi)
        let labels = LineChart.labels(yTicks)
        let left = x + (labels.map { Font.width($0, scale: s) }.max() ?? 0) + 3 * s
        let top = y + 2 * line + 2 * s, right = x + width - 2 * s, bottom = y + height - 2 * line - s
        guard right > left + 10, bottom > top + 10, let y0 = yTicks.first, let y1 = yTicks.last else { return }
        let plotW = right - left, plotH = bottom - top
        // A single epoch sits in the middle; otherwise epoch 1 is the left edge and the last the right.
        func px(_ epoch: Int) -> Int { count == 1 ? left + plotW / 2 : left + (epoch - 1) * plotW / (count - 1) }
        func py(_ v: Double) -> Int { bottom - Int((Double(plotH) * (v - y0) / (y1 - y0)).rounded()) }

        for (t, label) in zip(yTicks, labels) {
            let ty = py(t)
            bitmap.drawLine(left, ty, right, ty, color: grid)
            bitmap.drawLine(left - s, ty, left, ty, color: black)
            bitmap.drawText(label, x: left - 2 * s - Font.width(label, scale: s), y: ty - Font.height * s / 2, color: black, scale: s)
        }
        for epoch in LineChart.integerTicks(upTo: count) {
            let tx = px(epoch), label = String(epoch)
            bitmap.drawLine(tx, top, tx, bottom, color: grid)
            bitmap.drawLine(tx, bottom, tx, bottom + s, color: black)
            bitmap.drawText(label, x: tx - Font.width(label, scale: s) / 2, y: bottom + 2 * s, color: black, scale: s)
        }
        bitmap.drawLine(left, top, left, bottom, color: black)
        bitmap.drawLine(left, bottom, right, bottom, color: black)
        bitmap.drawText(xTitle, x: left + (plotW - Font.width(xTitle, scale: s)) / 2, y: bottom + 2 * s + line, color: black, scale: s)

        for item in series {
            let points = item.values.enumerated().compactMap { i, v in v.isFinite ? (px(i + 1), py(v)) : nil }
            for (p, q) in zip(points, points.dropFirst()) {
                // Two pixels thick, so that a line over a grid line stays visible.
                bitmap.drawLine(p.0, p.1, q.0, q.1, color: item.color)
                bitmap.drawLine(p.0, p.1 + 1, q.0, q.1 + 1, color: item.color)
            }
            for p in points { for dy in -s ... s { for dx in -s ... s { bitmap.setPixel(p.0 + dx, p.1 + dy, item.color) } } }
        }
    }

    /// Round tick values (steps of 1, 2 or 5 × 10ᵏ) whose first is at most `lo` and whose last is at
    /// least `hi`, about `count` of them. A flat range (lo = hi, one epoch) is widened by 5 % of its
    /// value (by 1 around 0), so that it still gets distinct ticks. Empty for a range that does
    /// not fit in a Double.
    public static func ticks(lo: Double, hi: Double, count: Int = 5) -> [Double] {
        guard (hi - lo).isFinite, (2 * lo).isFinite, (2 * hi).isFinite else { return [] }
        var lo = lo, hi = hi
        if !(hi > lo) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.05
            lo -= pad; hi += pad
        }
        let (mantissa, exponent) = niceStep((hi - lo) / Double(max(1, count - 1)))
        let scale = pow(10, Double(abs(exponent)))
        // k·step computed as (k·mantissa)·10ᵉ or (k·mantissa)/10⁻ᵉ, exact up to the last rounding,
        // so that 3 × 0.1 is 0.3 rather than 0.30000000000000004.
        func value(_ k: Double) -> Double { exponent >= 0 ? k * mantissa * scale : k * mantissa / scale }
        let step = value(1)
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        // The tiny values that should be 0 become 0 (else labels read "-0.0").
        return stride(from: first, through: last, by: 1).map { k in
            let v = value(k)
            return abs(v) < step * 1e-9 ? 0 : v
        }
    }

    /// The smallest of 1, 2, 5 × 10ᵏ that is at least `raw` (> 0), as mantissa and exponent.
    static func niceStep(_ raw: Double) -> (mantissa: Double, exponent: Int) {
        let exponent = Int(log10(raw).rounded(.down))
        let f = raw / pow(10, Double(exponent))
        let tolerance = 1 + 1e-9  // log10 and the division may miss an exact 1, 2 or 5 by an ulp
        let mantissa: Double = f <= tolerance ? 1 : f <= 2 * tolerance ? 2 : f <= 5 * tolerance ? 5 : 10
        return (mantissa, exponent)
    }

    /// Labels of equally spaced ticks, all with the decimals their step needs: 0.05 → "0.10".
    static func labels(_ ticks: [Double]) -> [String] {
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)))
        return ticks.map { String(format: "%.\(decimals)f", $0) }
    }

    /// Ticks of an axis of whole numbers 1 ... n: multiples of a round step (at least 1), about 8 of them.
    static func integerTicks(upTo n: Int) -> [Int] {
        let nice = niceStep(Double(n) / 8)
        let step = nice.exponent < 0 ? 1 : Int(nice.mantissa) * Int(pow(10, Double(nice.exponent)))
        return step == 1 ? Array(1 ... max(1, n)) : Array(stride(from: step, through: n, by: step))
    }
}
