/// Bilinear sampling of one channel plane, for the augmentations that move pixels by fractions
/// (affine, elastic).
enum Bilinear {
    /// The value of `plane: [H, W]` at real position (x, y) (column, row; pixel centres at whole
    /// numbers), interpolated between the four nearest pixels; pixels outside the image count as 0,
    /// the background. At whole-number positions it is the pixel itself, exactly.
    @inline(__always)
    static func sample(_ plane: UnsafePointer<Float>, height h: Int, width w: Int, x: Float, y: Float) -> Float {
        // Wholly outside (or not a number): all four neighbours are background (at x = -1 exactly
        // only the left one would count, with weight 1, and it is outside). Also keeps the
        // conversions to Int below in range.
        guard x > -1, y > -1, x < Float(w), y < Float(h) else { return 0 }
        // Truncating x + 1 > 0 floors x without a call to floorf (baseline x86-64 has no instruction
        // for it). When x + 1 rounds up to a whole number (x just below one), x0 is one too large
        // and the fraction a hair below 0: clamped, the error is below 1e-7 and no weight is negative.
        let x0 = Int(x + 1) - 1, y0 = Int(y + 1) - 1
        let fx = max(0, x - Float(x0)), fy = max(0, y - Float(y0))
        @inline(__always) func at(_ r: Int, _ c: Int) -> Float {
            r >= 0 && r < h && c >= 0 && c < w ? plane[r * w + c] : 0
        }
        // a + f (b - a): exactly a when f == 0, and never outside [min(a, b), max(a, b)].
        let a = at(y0, x0), b = at(y0, x0 + 1), c = at(y0 + 1, x0), d = at(y0 + 1, x0 + 1)
        let top = a + fx * (b - a), bottom = c + fx * (d - c)
        return top + fy * (bottom - top)
    }
}
