import LE4Data

/// Thicker or thinner strokes, as pens and scanners differ: t ~ U[-amount, amount] per image;
/// for t > 0 each pixel moves towards its grey-level dilation (the largest value in its 3×3
/// neighbourhood), x + t·(dilate(x) − x), for t < 0 towards its erosion (the smallest),
/// x + |t|·(erode(x) − x). MNIST strokes are bright on a dark background, so dilation thickens
/// them: at t = 1 a stroke grows by a pixel on each side, at t = −1 one pixel wide vanishes.
/// Neighbourhoods are clipped at the border (nothing is assumed outside). Every channel is treated
/// alike.
///
/// Default amount 0.4, chosen on augment-preview sheets of MNIST: MNIST strokes are two to three
/// pixels wide, so a full erosion (amount 1) all but erases some digits and a partial one mostly
/// dims them; from 0.5 up several thin digits come out faint grey, at 0.4 every digit stays
/// clearly readable while strokes visibly thicken or lighten.
struct StrokeWidth: ImageAugmentation {
    static let name = "stroke"
    static let summary = "thicker or thinner strokes (blend with 3×3 dilation or erosion)"
    static let parameters: [Parameter<StrokeWidth>] = [.real("amount", \.amount, in: .closed(0, 1))]

    /// Largest blend towards the dilation or erosion.
    var amount: Double

    static func defaults(for g: ImageGeometry) -> StrokeWidth { StrokeWidth(amount: 0.4) }

    /// A copy of the image and one plane for the row pass.
    func scratchCount(_ g: ImageGeometry) -> Int { g.count + g.plane }

    /// t: positive thickens, negative thins, 0 leaves the image alone.
    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Float {
        Float(rng.uniform(-amount, amount))
    }

    func apply(_ t: Float, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        guard t != 0 else { return }
        precondition(scratch.count >= scratchCount(g), "scratch too small")
        let h = g.height, w = g.width, weight = abs(t), thicker = t > 0
        @inline(__always) func pick(_ a: Float, _ b: Float) -> Float { thicker ? max(a, b) : min(a, b) }
        let copy = scratch.baseAddress!, rows = copy + g.count, out = image.baseAddress!
        copy.update(from: out, count: g.count)
        for c in 0..<g.channels {
            let src = copy + c * g.plane, dst = out + c * g.plane
            // The 3×3 extreme is separable: across each row (into `rows`), then down the columns.
            for y in 0..<h {
                let s = src + y * w, r = rows + y * w
                r[0] = w > 1 ? pick(s[0], s[1]) : s[0]
                if w > 2 { for x in 1..<(w - 1) { r[x] = pick(pick(s[x - 1], s[x]), s[x + 1]) } }
                if w > 1 { r[w - 1] = pick(s[w - 2], s[w - 1]) }
            }
            for y in 0..<h {
                let above = rows + max(0, y - 1) * w, here = rows + y * w, below = rows + min(h - 1, y + 1) * w
                let s = src + y * w, d = dst + y * w
                for x in 0..<w {
                    let m = pick(pick(above[x], here[x]), below[x])
                    d[x] = s[x] + weight * (m - s[x])
                }
            }
        }
    }
}
