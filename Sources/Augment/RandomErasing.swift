import Foundation
import LE4Data

/// Random erasing (Zhong et al. 2017): with probability `p`, a rectangle of area fraction
/// s ~ U[smin, smax] and aspect ratio r (log-uniform in [rmin, rmax]) gets
/// h = round(√(s·H·W·r)) rows and w = round(√(s·H·W/r)) columns, placed uniformly so that it lies
/// inside the image, and is filled with uniform random values in [0, 1) (per pixel and channel).
/// A shape that does not fit is redrawn, up to `maxAttempts` times; then the image is left alone.
struct RandomErasing: ImageAugmentation {
    static let name = "erasing"
    static let summary = "a rectangle of noise, area fraction smin to smax, aspect rmin to rmax"
    static let parameters: [Parameter<RandomErasing>] = [
        .real("p", \.p, in: .closed(0, 1)),
        .real("smin", \.smin, in: .openClosed(0, 1)),
        .real("smax", \.smax, in: .openClosed(0, 1)),
        .real("rmin", \.rmin, in: .closed(0.001, 1000)),
        .real("rmax", \.rmax, in: .closed(0.001, 1000)),
    ]
    static let maxAttempts = 10

    var p: Double
    var smin: Double
    var smax: Double
    var rmin: Double
    var rmax: Double

    /// The paper's settings.
    static func defaults(for g: ImageGeometry) -> RandomErasing {
        RandomErasing(p: 0.5, smin: 0.02, smax: 0.33, rmin: 0.3, rmax: 3.3)
    }

    func conflict() -> String? {
        if smin > smax { return "smin (\(smin)) must not exceed smax (\(smax))" }
        if rmin > rmax { return "rmin (\(rmin)) must not exceed rmax (\(rmax))" }
        return nil
    }

    /// The drawn rectangle (rows `y..<y+height`, columns `x..<x+width`) and the area fraction
    /// and aspect ratio it was made from.
    struct Rectangle: Equatable, Sendable {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var area: Double
        var ratio: Double
    }

    /// The rectangle to erase, or nil when this image is not erased.
    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Rectangle? {
        guard rng.nextDouble() < p else { return nil }
        let total = Double(g.plane), logMin = log(rmin), logMax = log(rmax)
        for _ in 0..<Self.maxAttempts {
            let s = rng.uniform(smin, smax)
            let r = exp(rng.uniform(logMin, logMax))
            let h = Int((s * total * r).squareRoot().rounded())
            let w = Int((s * total / r).squareRoot().rounded())
            guard h >= 1, w >= 1, h <= g.height, w <= g.width else { continue }
            let y = rng.int(below: g.height - h + 1)
            let x = rng.int(below: g.width - w + 1)
            return Rectangle(x: x, y: y, width: w, height: h, area: s, ratio: r)
        }
        return nil
    }

    /// Fills the rectangle with values drawn from `rng` (channel by channel, row by row).
    func apply(_ p: Rectangle?, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        guard let p else { return }
        let base = image.baseAddress!
        for c in 0..<g.channels {
            for y in p.y..<(p.y + p.height) {
                let row = base + (c * g.height + y) * g.width + p.x
                for x in 0..<p.width { row[x] = rng.nextFloat() }
            }
        }
    }
}
