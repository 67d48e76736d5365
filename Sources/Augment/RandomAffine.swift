import Foundation
import LE4Data

/// Random affine transform about the image centre, as writers hold the pen at other angles,
/// sizes and slants and digits sit off centre: rotation by θ ~ U[-rotate, rotate] degrees
/// (positive turns the image clockwise as displayed, rows running down), zoom by
/// z ~ U[1-scale, 1+scale], horizontal shear k ~ U[-shear, shear] (a slant: x moves by k·y), and
/// a shift (tx, ty) ~ U[-shift, shift]·(W, H) pixels, all drawn per image.
///
/// With c the centre ((W-1)/2, (H-1)/2) and A = z·R(θ)·[[1, k], [0, 1]], input point p moves to
/// A(p - c) + c + t. Each output pixel is computed by inverse mapping, p = A⁻¹(p' - c - t) + c,
/// sampled bilinearly; what comes from outside the image is 0, the background.
///
/// Defaults follow the usual MNIST recipes (Ciresan et al. 2010–2012; Keras and torchvision
/// examples): ±15°, ±15 % zoom, ±10 % shift. Shear 0.1 (±5.7°) is kept small: MNIST digits were
/// not deslanted, so slant varies between writers, but rotation already tilts them by up to 15°.
struct RandomAffine: ImageAugmentation {
    static let name = "affine"
    static let summary = "rotation, zoom, slant and shift about the centre, bilinear"
    static let parameters: [Parameter<RandomAffine>] = [
        .real("rotate", \.rotate, in: .closed(0, 180)),
        .real("scale", \.scale, in: .closed(0, 0.5)),
        .real("shear", \.shear, in: .closed(0, 1)),
        .real("shift", \.shift, in: .closed(0, 0.5)),
    ]

    /// Largest rotation, degrees.
    var rotate: Double
    /// Largest relative change of size.
    var scale: Double
    /// Largest shear factor (tangent of the slant angle).
    var shear: Double
    /// Largest shift, as a fraction of the side.
    var shift: Double

    static func defaults(for g: ImageGeometry) -> RandomAffine {
        RandomAffine(rotate: 15, scale: 0.15, shear: 0.1, shift: 0.1)
    }

    /// One image's transform.
    struct Params: Equatable, Sendable {
        /// Rotation, degrees, clockwise as displayed.
        var angle: Double
        /// Size factor (1: unchanged).
        var zoom: Double
        /// Shear factor: x moves by `shear`·y (about the centre).
        var shear: Double
        /// Shift right, pixels.
        var dx: Double
        /// Shift down, pixels.
        var dy: Double
    }

    /// A copy of the image.
    func scratchCount(_ g: ImageGeometry) -> Int { g.count }

    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Params {
        let angle = rng.uniform(-rotate, rotate)
        let zoom = rng.uniform(1 - scale, 1 + scale)
        let k = rng.uniform(-shear, shear)
        let dx = rng.uniform(-shift, shift) * Double(g.width)
        let dy = rng.uniform(-shift, shift) * Double(g.height)
        return Params(angle: angle, zoom: zoom, shear: k, dx: dx, dy: dy)
    }

    func apply(_ p: Params, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        precondition(p.zoom > 0 && scratch.count >= g.count, "zoom must be positive; scratch holds one image")
        // A⁻¹ = K⁻¹ R(-θ) / z with K⁻¹ = [[1, -k], [0, 1]].
        let theta = p.angle * .pi / 180, cs = cos(theta), sn = sin(theta)
        let m00 = Float((cs + p.shear * sn) / p.zoom), m01 = Float((sn - p.shear * cs) / p.zoom)
        let m10 = Float(-sn / p.zoom), m11 = Float(cs / p.zoom)
        let h = g.height, w = g.width
        let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2
        let ox = cx + Float(p.dx), oy = cy + Float(p.dy)
        let out = image.baseAddress!, src = scratch.baseAddress!
        src.update(from: out, count: g.count)
        for c in 0..<g.channels {
            let plane = UnsafePointer(src + c * g.plane), dst = out + c * g.plane
            for y in 0..<h {
                let v = Float(y) - oy
                for x in 0..<w {
                    // (u, v) = p' - c - t; identity parameters give back (x, y) exactly.
                    let u = Float(x) - ox
                    dst[y * w + x] = Bilinear.sample(plane, height: h, width: w,
                                                     x: m00 * u + m01 * v + cx, y: m10 * u + m11 * v + cy)
                }
            }
        }
    }
}
