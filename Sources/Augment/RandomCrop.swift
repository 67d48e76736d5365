import LE4Data

/// Random crop: pad the image by `pad` pixels on every side and crop back to the original
/// size at a random offset, i.e. shift it by (dx, dy), each uniform in `-pad...pad`.
/// Pixels shifted in from outside are zero (`mode=zero`) or mirrored (`mode=reflect`,
/// reflection about the edge pixel, which itself is not repeated).
struct RandomCrop: ImageAugmentation {
    /// How the padding is filled.
    enum Mode: String, CaseIterable, Sendable { case zero, reflect }

    static let name = "crop"
    static let summary = "random shift: pad, then crop back"
    static let parameters: [Parameter<RandomCrop>] = [
        .integer("pad", \.pad, in: { 0...(min($0.height, $0.width) - 1) }),
        .choice("mode", \.mode),
    ]

    var pad: Int
    var mode: Mode

    static func defaults(for g: ImageGeometry) -> RandomCrop {
        RandomCrop(pad: defaultPad(height: g.height, width: g.width), mode: .zero)
    }

    /// 2 for 28×28, 4 for 32×32: an eighth of the side from 32 up, a fourteenth below (at least 1).
    static func defaultPad(height: Int, width: Int) -> Int {
        let side = min(height, width)
        return side >= 32 ? side / 8 : max(1, side / 14)
    }

    /// The drawn shift: output pixel (y, x) is input pixel (y + dy, x + dx).
    struct Params: Equatable, Sendable {
        var dx: Int
        var dy: Int
    }

    /// A copy of the image.
    func scratchCount(_ g: ImageGeometry) -> Int { g.count }

    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Params {
        let dx = rng.int(below: 2 * pad + 1) - pad
        let dy = rng.int(below: 2 * pad + 1) - pad
        return Params(dx: dx, dy: dy)
    }

    /// Shifts `image` in place, row by row. Requires `pad < min(H, W)` (checked when the selection is parsed).
    func apply(_ p: Params, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        Self.shift(image, by: p, mode: mode, scratch: scratch, geometry: g)
    }

    /// Shifts `image` [C, H, W] in place: output pixel (y, x) becomes input pixel (y + dy, x + dx),
    /// pixels from outside zero or mirrored by `mode`. Needs |dx| < W, |dy| < H and a scratch of
    /// one image. For training's floats and for test-time views' bytes alike.
    static func shift<Pixel: AdditiveArithmetic>(_ image: UnsafeMutableBufferPointer<Pixel>, by p: Params, mode: Mode,
                                                 scratch: UnsafeMutableBufferPointer<Pixel>, geometry g: ImageGeometry) {
        guard p.dx != 0 || p.dy != 0 else { return }
        let h = g.height, w = g.width
        precondition(image.count >= g.count && scratch.count >= g.count && abs(p.dx) < w && abs(p.dy) < h)
        let dst0 = image.baseAddress!, src0 = scratch.baseAddress!
        src0.update(from: dst0, count: g.count)
        // Output columns lo..<hi come straight from input columns lo+dx..<hi+dx.
        let lo = max(0, -p.dx), hi = min(w, w - p.dx)
        for c in 0..<g.channels {
            for y in 0..<h {
                let dst = dst0 + (c * h + y) * w
                var sy = y + p.dy
                if sy < 0 || sy >= h {
                    if mode == .zero { dst.update(repeating: .zero, count: w); continue }
                    sy = reflect(sy, h)
                }
                let src = UnsafePointer(src0 + (c * h + sy) * w)
                (dst + lo).update(from: src + lo + p.dx, count: hi - lo)
                switch mode {
                case .zero:
                    dst.update(repeating: .zero, count: lo)
                    (dst + hi).update(repeating: .zero, count: w - hi)
                case .reflect:
                    for x in 0..<lo { dst[x] = src[reflect(x + p.dx, w)] }
                    for x in hi..<w { dst[x] = src[reflect(x + p.dx, w)] }
                }
            }
        }
    }

    /// Mirror index `i` (in `-(n-1)...2(n-1)`) into `0..<n` without repeating the edge.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i)
    }
}

extension ImageSet {
    /// The set with every image moved by (dx, dy) pixels, |dx| < W and |dy| < H: pixel (y, x) of
    /// the result is pixel (y − dy, x − dx) of the image. The uncovered border is zero, or with
    /// `reflect` the image mirrored about its edge pixel (`crop`'s two modes).
    public func shifted(dx: Int, dy: Int, reflect: Bool = false) -> ImageSet {
        if dx == 0 && dy == 0 { return self }
        var out = self
        let g = ImageGeometry(channels: channels, height: height, width: width)
        var scratch = [UInt8](repeating: 0, count: g.count)
        out.pixels.withUnsafeMutableBufferPointer { all in
            scratch.withUnsafeMutableBufferPointer { s in
                for i in 0 ..< count {
                    RandomCrop.shift(UnsafeMutableBufferPointer(rebasing: all[i * g.count ..< (i + 1) * g.count]),
                                     by: .init(dx: -dx, dy: -dy), mode: reflect ? .reflect : .zero, scratch: s, geometry: g)
                }
            }
        }
        return out
    }
}

