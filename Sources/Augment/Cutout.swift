import LE4Data

/// Cutout (DeVries & Taylor 2017): a `size`×`size` square whose centre is uniform over the image
/// (so it may hang over the border, where it is clipped) is set to zero (`fill=zero`) or to the
/// image's per-channel mean (`fill=mean`, computed before the square is cut).
struct Cutout: ImageAugmentation {
    /// What the square is filled with.
    enum Fill: String, CaseIterable, Sendable { case zero, mean }

    static let name = "cutout"
    static let summary = "a square set to zero or the image mean"
    static let parameters: [Parameter<Cutout>] = [
        .integer("size", \.size, in: { 1...max($0.height, $0.width) }),
        .choice("fill", \.fill),
    ]

    var size: Int
    var fill: Fill

    static func defaults(for g: ImageGeometry) -> Cutout {
        Cutout(size: defaultSize(height: g.height, width: g.width), fill: .zero)
    }

    /// 8 for 28×28, 16 for 32×32: half the side from 32 up, 2/7 of it below (at least 1).
    static func defaultSize(height: Int, width: Int) -> Int {
        let side = min(height, width)
        return side >= 32 ? side / 2 : max(1, Int((Double(side) * 2 / 7).rounded()))
    }

    /// The drawn centre and the clipped square (`rows` × `columns`, never empty).
    struct Params: Equatable, Sendable {
        var centerX: Int
        var centerY: Int
        var rows: Range<Int>
        var columns: Range<Int>
    }

    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Params {
        let cy = rng.int(below: g.height), cx = rng.int(below: g.width)
        let y0 = cy - size / 2, x0 = cx - size / 2
        return Params(centerX: cx, centerY: cy,
                      rows: max(0, y0)..<min(g.height, y0 + size),
                      columns: max(0, x0)..<min(g.width, x0 + size))
    }

    func apply(_ p: Params, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        let base = image.baseAddress!, n = g.plane
        for c in 0..<g.channels {
            let plane = base + c * n
            var value: Float = 0
            if fill == .mean {
                var sum: Float = 0
                for k in 0..<n { sum += plane[k] }
                value = sum / Float(n)
            }
            for y in p.rows {
                (plane + y * g.width + p.columns.lowerBound).update(repeating: value, count: p.columns.count)
            }
        }
    }
}
