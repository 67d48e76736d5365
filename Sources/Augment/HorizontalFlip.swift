import LE4Data

/// Horizontal flip with probability `p`: every row of every channel is mirrored.
/// Only for colour images (digits must not be mirrored; the parser enforces C == 3).
struct HorizontalFlip: Equatable, Sendable {
    static let name = "flip"
    static let keys = ["p"]

    var p: Double

    /// Canonical spelling, e.g. `flip:p=0.5`.
    var spelling: String { "\(Self.name):p=\(p)" }

    /// Whether this image is flipped.
    func draw(_ rng: inout SeededRNG) -> Bool { rng.nextDouble() < p }

    func apply(_ flipped: Bool, to image: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
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
