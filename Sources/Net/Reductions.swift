// The element-wise kernels and sums the layers share (BatchNorm, the bias gradients, ReLU), written
// with SIMD8: a float sum is not vectorized by the compiler, which must keep the order of its
// additions, so the sums here keep eight independent partial sums; `affine` and the ReLU select
// stayed scalar as plain loops.

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

/// Σ (x[i] − m)² for i in 0..<n.
@inline(__always)
func sumSquaredDeviation(_ x: UnsafePointer<Float>, _ n: Int, mean m: Float) -> Float {
    var acc = SIMD8<Float>(), i = 0
    let raw = UnsafeRawPointer(x), mv = SIMD8<Float>(repeating: m)
    while i + 8 <= n {
        let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - mv
        acc += d * d; i += 8
    }
    var s = acc.sum()
    while i < n { let d = x[i] - m; s += d * d; i += 1 }
    return s
}

/// Σ x[i]·y[i] for i in 0..<n.
@inline(__always)
func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(), i = 0
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    while i + 8 <= n {
        acc += rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}

/// out[i] = a·u[i] + b·v[i] + c for i in 0..<n (v may be nil: b·v drops out).
@inline(__always)
func affine(_ u: UnsafePointer<Float>, _ a: Float, _ v: UnsafePointer<Float>?, _ b: Float, _ c: Float,
            into out: UnsafeMutablePointer<Float>, _ n: Int) {
    let ru = UnsafeRawPointer(u), ro = UnsafeMutableRawPointer(out)
    let av = SIMD8<Float>(repeating: a), bv = SIMD8<Float>(repeating: b), cv = SIMD8<Float>(repeating: c)
    var i = 0
    if let v {
        let rv = UnsafeRawPointer(v)
        while i + 8 <= n {
            let r = av * ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                + bv * rv.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + cv
            ro.storeBytes(of: r, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { out[i] = a * u[i] + b * v[i] + c; i += 1 }
    } else {
        while i + 8 <= n {
            ro.storeBytes(of: av * ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + cv,
                          toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { out[i] = a * u[i] + c; i += 1 }
    }
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
