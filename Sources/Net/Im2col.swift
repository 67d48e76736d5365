// im2col and its adjoint col2im (course section 5.7): the convolution's input rearranged so that
// each output pixel's receptive field is one column, and the gradient of those columns added back.

extension Conv2D {
    /// The output columns ow whose input column ow·s − p + j lies inside the image: owLo..<owHi.
    @inline(__always)
    func insideColumns(_ j: Int, W: Int, OW: Int) -> (Int, Int) {
        let s = stride, p = pad
        let lo = min(OW, max(0, (p - j + s - 1) / s))
        return (lo, max(lo, min(OW, (W + p - j + s - 1) / s)))
    }

    /// One image: col[(c·R + i)·R + j, oh·OW + ow] = x[c, oh·s − p + i, ow·s − p + j] (0 outside).
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, C: Int, H: Int, W: Int, OH: Int, OW: Int) {
        let R = size, s = stride, p = pad, P = OH * OW
        for row in 0 ..< C * R * R {
            let c = row / (R * R), i = (row / R) % R, j = row % R
            let (owLo, owHi) = insideColumns(j, W: W, OW: OW)
            for oh in 0 ..< OH {
                let dst = col + row * P + oh * OW
                let ih = oh * s - p + i
                guard ih >= 0, ih < H else { dst.initialize(repeating: 0, count: OW); continue }
                let src = x + c * H * W + ih * W - p + j
                zeroEnds(of: dst, count: OW, keeping: owLo ..< owHi)
                if s == 1 {
                    copyRow(src + owLo, to: dst + owLo, count: owHi - owLo)
                } else {
                    for ow in owLo ..< owHi { dst[ow] = src[ow * s] }
                }
            }
        }
    }

    /// Zeros dst[0..<n] outside `inside`, which the caller fills afterwards. The padding at each
    /// end of a row is a pixel or two: a run of at most 8 gets one SIMD8 store of zeros (reaching
    /// into what the caller then overwrites) instead of a memset call, which cost 6 % of training
    /// mnist-small.
    @inline(__always)
    func zeroEnds(of dst: UnsafeMutablePointer<Float>, count n: Int, keeping inside: Range<Int>) {
        let (lo, hi) = (inside.lowerBound, inside.upperBound)
        let rd = UnsafeMutableRawPointer(dst)
        if lo > 0 {
            if lo <= 8 && n >= 8 { rd.storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self) } else { dst.initialize(repeating: 0, count: lo) }
        }
        if hi < n {
            if n - hi <= 8 && n >= 8 {
                rd.storeBytes(of: SIMD8<Float>(), toByteOffset: (n - 8) * 4, as: SIMD8<Float>.self)
            } else {
                (dst + hi).initialize(repeating: 0, count: n - hi)
            }
        }
    }

    /// dst[0..<n] = src[0..<n] for the short rows of im2col, where a memmove call per row
    /// cost more than the copy: SIMD8 blocks, the last one overlapping instead of a tail.
    @inline(__always)
    func copyRow(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) {
        let rs = UnsafeRawPointer(src), rd = UnsafeMutableRawPointer(dst)
        guard n >= 8 else {
            for i in 0 ..< n { dst[i] = src[i] }
            return
        }
        var i = 0
        while true {
            rd.storeBytes(of: rs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), toByteOffset: i * 4, as: SIMD8<Float>.self)
            if i + 8 == n { return }
            i = min(i + 8, n - 8)
        }
    }

    /// One image, the adjoint of im2col: every column entry is added back to the pixel it came from.
    func col2im(_ col: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, C: Int, H: Int, W: Int, OH: Int, OW: Int) {
        let R = size, s = stride, p = pad, P = OH * OW
        for row in 0 ..< C * R * R {
            let c = row / (R * R), i = (row / R) % R, j = row % R
            let (owLo, owHi) = insideColumns(j, W: W, OW: OW)
            for oh in 0 ..< OH {
                let ih = oh * s - p + i
                guard ih >= 0, ih < H else { continue }
                let src = col + row * P + oh * OW
                let dst = x + c * H * W + ih * W - p + j
                if s == 1 {
                    for ow in owLo ..< owHi { dst[ow] += src[ow] }
                } else {
                    for ow in owLo ..< owHi { dst[ow * s] += src[ow] }
                }
            }
        }
    }
}
