import LE4Data

/// Horizontal flip with probability `p`: every row of every channel is mirrored.
/// Only for colour images (digits must not be mirrored; the parser enforces C == 3).
struct HorizontalFlip: ImageAugmentation {
    static let name = "flip"
    static let summary = "horizontal mirror, for colour images only"
    static let parameters: [Parameter<HorizontalFlip>] = [.real("p", \.p, in: .closed(0, 1))]

    var p: Double

    static func defaults(for g: ImageGeometry) -> HorizontalFlip { HorizontalFlip(p: 0.5) }

    static func unavailable(for g: ImageGeometry) -> String? {
        g.channels == 3 ? nil : "flip is for colour images; digits must not be mirrored "
            + "(these images have \(g.channels) channel\(g.channels == 1 ? "" : "s"))"
    }

    /// Whether this image is flipped.
    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Bool { rng.nextDouble() < p }

    func apply(_ flipped: Bool, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        guard flipped else { return }
        let w = g.width, base = image.baseAddress!
        for r in 0..<(g.channels * g.height) {
            let row = base + r * w
            var a = 0, b = w - 1
            while a < b {
                let t = row[a]; row[a] = row[b]; row[b] = t
                a += 1; b -= 1
            }
        }
    }
}
