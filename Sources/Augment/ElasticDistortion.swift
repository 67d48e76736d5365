import Foundation
import LE4Data

/// Elastic distortion (Simard, Steinkraus & Platt 2003), the wobble of a hand-drawn stroke: a
/// displacement field with components uniform in [-1, 1] per pixel is smoothed by a Gaussian of
/// standard deviation `sigma` pixels (separable, truncated at 3σ, normalised to sum 1; outside the
/// image the field is 0, as scipy's `gaussian_filter(mode="constant")` in the usual
/// implementations), scaled by `alpha`, and each output pixel (x, y) takes the input at
/// (x + Δx, y + Δy), sampled bilinearly (outside = 0, the background).
///
/// Simard's α = 34, σ = 4 for 28×28 digits moves pixels by 1.4 px per axis (root mean square, away
/// from the border) in smooth swirls. The default is lighter, α = 16, σ = 4 (0.65 px per axis):
/// on augment-preview sheets of MNIST, Simard's setting turns some 1s into zigzag blobs and twists
/// 2s, while α = 16 gives a natural wobble that leaves every digit plain; it is meant to be
/// combined with `affine`, which does the large-scale changes. α = 8, σ = 3 is barely visible.
struct ElasticDistortion: ImageAugmentation {
    static let name = "elastic"
    static let summary = "elastic distortion: smooth random displacement field (Simard 2003)"
    static let parameters: [Parameter<ElasticDistortion>] = [
        .real("alpha", \.alpha, in: .closed(0, 100)),
        .real("sigma", \.sigma, in: .closed(0.5, 8)),
    ]

    /// Strength: the displacement field's scale, pixels.
    var alpha: Double
    /// Smoothness: the Gaussian's standard deviation, pixels.
    var sigma: Double

    static func defaults(for g: ImageGeometry) -> ElasticDistortion { ElasticDistortion(alpha: 16, sigma: 4) }

    /// Taps on each side of the Gaussian's centre: 3σ, rounded up.
    var radius: Int { Int((3 * sigma).rounded(.up)) }

    /// A copy of the image, four planes for the field (two components, two stages of smoothing)
    /// and the Gaussian's taps.
    func scratchCount(_ g: ImageGeometry) -> Int { g.count + 4 * g.plane + 2 * radius + 1 }

    /// Nothing up front: the field is drawn in `apply`, straight into the scratch planes.
    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) {}

    func apply(_ p: Void, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        precondition(scratch.count >= scratchCount(g), "scratch too small")
        let h = g.height, w = g.width, n = g.plane, r = radius
        let copy = scratch.baseAddress!, raw = copy + g.count, across = raw + n
        let fieldX = across + n, fieldY = fieldX + n, taps = fieldY + n
        // The Gaussian, computed per image rather than kept in the struct: 2r+1 exponentials are
        // nothing next to the smoothing itself.
        var sum: Float = 0
        for k in -r...r {
            let v = Float(exp(-Double(k * k) / (2 * sigma * sigma)))
            taps[k + r] = v
            sum += v
        }
        for k in 0...(2 * r) { taps[k] /= sum }
        for component in 0..<2 {
            for k in 0..<n { raw[k] = 2 * rng.nextFloat() - 1 }
            Self.smooth(raw, through: across, into: component == 0 ? fieldX : fieldY, height: h, width: w,
                        taps: taps, radius: r)
        }
        copy.update(from: image.baseAddress!, count: g.count)
        let a = Float(alpha), out = image.baseAddress!
        for c in 0..<g.channels {
            let plane = UnsafePointer(copy + c * n), dst = out + c * n
            for y in 0..<h {
                for x in 0..<w {
                    let k = y * w + x
                    dst[k] = Bilinear.sample(plane, height: h, width: w,
                                             x: Float(x) + a * fieldX[k], y: Float(y) + a * fieldY[k])
                }
            }
        }
    }

    /// Separable Gaussian smoothing of `source: [H, W]` into `result`, rows first (into `temp`),
    /// with zeros outside the plane. The loops run along rows so that they vectorise.
    static func smooth(_ source: UnsafePointer<Float>, through temp: UnsafeMutablePointer<Float>,
                       into result: UnsafeMutablePointer<Float>, height h: Int, width w: Int,
                       taps: UnsafePointer<Float>, radius r: Int) {
        temp.update(repeating: 0, count: h * w)
        for y in 0..<h {
            let src = source + y * w, dst = temp + y * w
            for k in -r...r {
                // dst[x] += taps[k] · src[x + k] for the x whose x + k lies inside the row.
                let lo = max(0, -k), hi = min(w, w - k), t = taps[k + r], shifted = src + k
                guard lo < hi else { continue }
                for x in lo..<hi { dst[x] += t * shifted[x] }
            }
        }
        result.update(repeating: 0, count: h * w)
        for y in 0..<h {
            let dst = result + y * w
            for k in max(-r, -y)...min(r, h - 1 - y) {
                let src = temp + (y + k) * w, t = taps[k + r]
                for x in 0..<w { dst[x] += t * src[x] }
            }
        }
    }
}
