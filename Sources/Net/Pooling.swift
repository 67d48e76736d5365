/// Max pooling of size d and stride d (course formulas 63–64): the gradient goes to the maximum.
public final class MaxPool: Layer {
    public let size: Int
    private var argmax = [Int32]()
    private var inputShape = [Int]()

    public init(size: Int) { self.size = size }
    public var spec: String { size == 2 ? "pool" : "pool\(size)" }
    public func outputShape(_ input: [Int]) -> [Int] { [input[0], input[1] / size, input[2] / size] }

    // x: [B, C, H, W] → y: [B, C, H/d, W/d]
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let d = size, OH = H / d, OW = W / d
        if argmax.count != B * C * OH * OW { argmax = [Int32](repeating: 0, count: B * C * OH * OW) }
        return Tensor(uninitialized: [B, C, OH, OW]) { y in
            x.data.withUnsafeBufferPointer { xp in
                argmax.withUnsafeMutableBufferPointer { am in
                    Threads.parallelFor(B * C, minChunk: 16) { planes in
                        for plane in planes {
                            let xo = plane * H * W, yo = plane * OH * OW
                            if d == 2 {
                                for oh in 0 ..< OH {
                                    MaxPool.pool2x2Row(xp.baseAddress!, row: xo + 2 * oh * W, width: W,
                                                       y: y.baseAddress! + yo + oh * OW, argmax: am.baseAddress! + yo + oh * OW,
                                                       count: OW)
                                }
                                continue
                            }
                            for oh in 0 ..< OH {
                                for ow in 0 ..< OW {
                                    var best = xo + oh * d * W + ow * d
                                    for i in 0 ..< d {
                                        for j in 0 ..< d {
                                            let k = xo + (oh * d + i) * W + ow * d + j
                                            if xp[k] > xp[best] { best = k }
                                        }
                                    }
                                    y[yo + oh * OW + ow] = xp[best]
                                    am[yo + oh * OW + ow] = Int32(truncatingIfNeeded: best)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The common 2×2 case, one output row: y[ow] = max of x[row + 2ow, +1, +W, +W+1] and
    /// argmax[ow] its index into x. Written without branches, by SIMD selects, because random
    /// data would mispredict a branch per comparison. Blocks of four outputs (the width of one SSE
    /// register, the default x86-64 target); the last block overlaps the one before instead of
    /// leaving a scalar tail, so only rows shorter than four are scalar.
    @inline(__always)
    static func pool2x2Row(_ x: UnsafePointer<Float>, row: Int, width W: Int,
                           y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>, count OW: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y), ra = UnsafeMutableRawPointer(argmax)
        var ow = 0
        if OW >= 4 {
            let lane = SIMD4<Int32>(0, 2, 4, 6)
            while true {
                let k0 = row + 2 * ow, k1 = k0 + W
                let t = rx.loadUnaligned(fromByteOffset: k0 * 4, as: SIMD8<Float>.self)
                let b = rx.loadUnaligned(fromByteOffset: k1 * 4, as: SIMD8<Float>.self)
                let (top, topRight) = (t.evenHalf.replacing(with: t.oddHalf, where: t.oddHalf .> t.evenHalf), t.oddHalf .> t.evenHalf)
                let (bottom, bottomRight) = (b.evenHalf.replacing(with: b.oddHalf, where: b.oddHalf .> b.evenHalf), b.oddHalf .> b.evenHalf)
                let lower = bottom .> top
                let i0 = lane &+ Int32(truncatingIfNeeded: k0), i1 = lane &+ Int32(truncatingIfNeeded: k1)
                let index = i0.replacing(with: i0 &+ 1, where: topRight)
                    .replacing(with: i1.replacing(with: i1 &+ 1, where: bottomRight), where: lower)
                ry.storeBytes(of: top.replacing(with: bottom, where: lower), toByteOffset: ow * 4, as: SIMD4<Float>.self)
                ra.storeBytes(of: index, toByteOffset: ow * 4, as: SIMD4<Int32>.self)
                if ow + 4 == OW { return }
                ow = min(ow + 4, OW - 4)
            }
        }
        for ow in 0 ..< OW {
            let k0 = row + 2 * ow, k1 = k0 + W
            let it = x[k0 + 1] > x[k0] ? k0 + 1 : k0, ib = x[k1 + 1] > x[k1] ? k1 + 1 : k1
            let best = x[ib] > x[it] ? ib : it
            y[ow] = x[best]
            argmax[ow] = Int32(truncatingIfNeeded: best)
        }
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        var dx = Tensor(zeros: inputShape)
        dx.data.withUnsafeMutableBufferPointer { dxp in
            dy.data.withUnsafeBufferPointer { d in
                argmax.withUnsafeBufferPointer { am in
                    // Windows do not overlap, so each thread's outputs scatter to its own inputs.
                    Threads.parallelFor(d.count, minChunk: 1 << 14) { r in for i in r { dxp[Int(am[i])] += d[i] } }
                }
            }
        }
        return dx
    }
}

/// Average pooling of size d and stride d; `global` averages each whole channel to one value
/// ([B, C, H, W] → [B, C]).
public final class AvgPool: Layer {
    public let size: Int
    public let global: Bool
    private var inputShape = [Int]()

    public init(size: Int) { self.size = size; global = false }
    public init(global: Bool) { size = 0; self.global = true }

    public var spec: String { global ? "gap" : "avgpool\(size)" }
    public func outputShape(_ input: [Int]) -> [Int] {
        global ? [input[0]] : [input[0], input[1] / size, input[2] / size]
    }

    private func windows(_ H: Int, _ W: Int) -> (dh: Int, dw: Int, OH: Int, OW: Int) {
        global ? (H, W, 1, 1) : (size, size, H / size, W / size)
    }

    // x: [B, C, H, W] → y: [B, C, OH, OW] (or [B, C] when global)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (dh, dw, OH, OW) = windows(H, W)
        let shape = global ? [B, C] : [B, C, OH, OW]
        let scale = 1 / Float(dh * dw)
        return Tensor(uninitialized: shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                for plane in 0 ..< B * C {
                    for oh in 0 ..< OH {
                        for ow in 0 ..< OW {
                            var s: Float = 0
                            for i in 0 ..< dh { for j in 0 ..< dw { s += xp[plane * H * W + (oh * dh + i) * W + ow * dw + j] } }
                            y[(plane * OH + oh) * OW + ow] = s * scale
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let (B, C, H, W) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (dh, dw, OH, OW) = windows(H, W)
        let scale = 1 / Float(dh * dw)
        var dx = Tensor(zeros: inputShape)
        dx.data.withUnsafeMutableBufferPointer { dxp in
            dy.data.withUnsafeBufferPointer { d in
                for plane in 0 ..< B * C {
                    for oh in 0 ..< OH {
                        for ow in 0 ..< OW {
                            let g = d[(plane * OH + oh) * OW + ow] * scale
                            for i in 0 ..< dh { for j in 0 ..< dw { dxp[plane * H * W + (oh * dh + i) * W + ow * dw + j] = g } }
                        }
                    }
                }
            }
        }
        return dx
    }
}
