// The element-wise loops the layers share outside the C kernels (the bias gradients, ReLU), written
// with SIMD8: a float sum is not vectorized by the compiler, which must keep the order of its
// additions, so the sum here keeps eight independent partial sums; the ReLU select would be a
// branch per element as a plain loop.

/// Σ x[i] for i in 0..<n.
@inline(__always)
func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(), i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= n { acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    var s = acc.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

/// out[i] = v[i] where key[i] > 0, else 0: the forward pass (v = key = x) and the backward
/// pass (v = dy, key = y) alike. Written with SIMD8 selects: the scalar form compiles to a
/// branch per element, which random signs mispredict half the time.
@inline(__always)
func zeroWhereNotPositive(_ v: UnsafePointer<Float>, of key: UnsafePointer<Float>,
                          into out: UnsafeMutablePointer<Float>, count n: Int) {
    let rv = UnsafeRawPointer(v), rk = UnsafeRawPointer(key), ro = UnsafeMutableRawPointer(out)
    let zero = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let k = rk.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        let x = rv.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        ro.storeBytes(of: zero.replacing(with: x, where: k .> zero), toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { out[i] = key[i] > 0 ? v[i] : 0; i += 1 }
}
