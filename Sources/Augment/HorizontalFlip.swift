import LE4Data

/// Horizontal flip: every row of every channel is mirrored. Only for images whose mirror shows
/// the same class (CIFAR-10's objects, Fashion-MNIST's garments; not digits).
///
/// `mode=random` flips each image with probability `p` afresh in every epoch. `mode=alternate`
/// (airbench's alternating flip, Jordan 2024) draws once per image whether it is flipped in even
/// epochs, with probability `p`, and flips it the other way in odd epochs: every two epochs the
/// network sees each image both ways, where independent draws show a quarter of them one way only.
struct HorizontalFlip: ImageAugmentation {
    /// Whether the flip is drawn afresh or alternates from epoch to epoch.
    enum Mode: String, CaseIterable, Sendable { case random, alternate }

    static let name = "flip"
    static let summary = "horizontal mirror (random, or alternating per epoch); not for digits"
    static let parameters: [Parameter<HorizontalFlip>] = [.real("p", \.p, in: .closed(0, 1)), .choice("mode", \.mode)]

    var p: Double
    var mode = Mode.random

    static func defaults(for g: ImageGeometry) -> HorizontalFlip { HorizontalFlip(p: 0.5) }

    static func unavailable(for g: ImageGeometry) -> String? {
        g.mirrorable ? nil : "flip is for images whose mirror is the same class (CIFAR-10, Fashion-MNIST); "
            + "digits must not be mirrored"
    }

    /// Whether this image is flipped (in an even epoch, for `mode=alternate`).
    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Bool { rng.nextDouble() < p }

    /// Whether this image is flipped in epoch `epoch`.
    func draw(_ rng: inout SeededRNG, lasting: inout SeededRNG, epoch: Int, geometry g: ImageGeometry) -> Bool {
        switch mode {
        case .random: return draw(&rng, geometry: g)
        case .alternate: return draw(&lasting, geometry: g) != (epoch % 2 == 1)
        }
    }

    func apply(_ flipped: Bool, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        if flipped { Self.mirror(image, geometry: g) }
    }

    /// Mirrors each row of `image` [C, H, W] left to right, in place.
    static func mirror<Pixel>(_ image: UnsafeMutableBufferPointer<Pixel>, geometry g: ImageGeometry) {
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

extension ImageSet {
    /// The set with every image mirrored left to right (`flip`'s transform).
    public func mirrored() -> ImageSet {
        var out = self
        // Every row of every image is one row of a single tall plane.
        let rows = ImageGeometry(channels: 1, height: count * channels * height, width: width)
        out.pixels.withUnsafeMutableBufferPointer { HorizontalFlip.mirror($0, geometry: rows) }
        return out
    }
}
