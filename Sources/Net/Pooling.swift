import Kernels

/// Max pooling of size d and stride d (course formulas 63–64): the gradient goes to the maximum.
public final class MaxPool: Layer {
    public let size: Int
    /// The index in the input of each output's maximum, kept for backward (training only); also
    /// written by `BatchNorm.forward(_:reluThenPool:)` and `Conv2D.forward(_:training:thenPool:)`,
    /// which run this pool fused with the layer before it.
    var argmax = [Int32]()
    private var inputShape = [Int]()

    public init(size: Int) { self.size = size }
    public var spec: String { size == 2 ? "pool" : "pool\(size)" }
    public func outputShape(_ input: [Int]) -> [Int] { [input[0], input[1] / size, input[2] / size] }

    /// Records a training input's `shape` [B, C, H, W] and sizes `argmax` for it, for backward.
    func prepare(input shape: [Int]) {
        inputShape = shape
        let count = shape[0] * shape[1] * (shape[2] / size) * (shape[3] / size)
        if argmax.count != count { argmax = [Int32](repeating: 0, count: count) }
    }

    // x: [B, C, H, W] → y: [B, C, H/d, W/d]
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let d = size, OH = H / d, OW = W / d
        if training { prepare(input: x.shape) }
        return Tensor(uninitialized: [B, C, OH, OW]) { y in
            x.data.withUnsafeBufferPointer { xp in
                argmax.withUnsafeMutableBufferPointer { am in
                    Threads.parallelFor(B * C, minChunk: 16) { planes in
                        let (x0, y0) = (planes.lowerBound * H * W, planes.lowerBound * OH * OW)
                        if d == 2 {
                            // Inference needs no argmax: the kernel then only takes maxima.
                            ISA.active.kernels.maxpool2x2(xp.baseAddress! + x0, planes.count, H, W, Int32(truncatingIfNeeded: x0),
                                                          y.baseAddress! + y0, training ? am.baseAddress! + y0 : nil)
                            return
                        }
                        for plane in planes {
                            let xo = plane * H * W, yo = plane * OH * OW
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
                                    if training { am[yo + oh * OW + ow] = Int32(truncatingIfNeeded: best) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // dy: [B, C, H/d, W/d] → dx: [B, C, H, W], dy at each window's maximum and 0 elsewhere
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        let (planes, plane) = (inputShape[0] * inputShape[1], inputShape[2] * inputShape[3]), outPlane = dy.count / max(planes, 1)
        return Tensor(uninitialized: inputShape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                argmax.withUnsafeBufferPointer { am in
                    // Each thread zeroes its own planes and scatters into them while they are in
                    // cache: windows do not overlap, so a plane's outputs land in that plane only.
                    Threads.parallelFor(planes, minChunk: 16) { r in
                        (dx.baseAddress! + r.lowerBound * plane).initialize(repeating: 0, count: r.count * plane)
                        for i in r.lowerBound * outPlane ..< r.upperBound * outPlane { dx[Int(am[i])] = d[i] }
                    }
                }
            }
        }
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

extension MaxPool: SpecLayer {
    public static let grammar = """
      pool[<d>]                  max pooling d×d, stride d (default 2)
    """
    public static func names(_ name: String) -> Bool { name.hasPrefix("pool") }

    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        let d = t.name == "pool" ? 2 : t.number(after: "pool") ?? 0
        guard d > 0 else { throw t.bad("expected pool or pool<d>") }
        try t.requireImage(atLeast: d)
        return [MaxPool(size: d)]
    }
}

extension AvgPool: SpecLayer {
    public static let grammar = """
      avgpool<d> | gap           average pooling d×d; global average pooling
    """
    public static func names(_ name: String) -> Bool { name == "gap" || name.hasPrefix("avgpool") }

    public static func build(_ t: inout LayerToken) throws -> [Layer] {
        if t.name == "gap" {
            guard t.shape.count == 3 else { throw t.bad("global average pooling needs an image input") }
            return [AvgPool(global: true)]
        }
        guard let d = t.number(after: "avgpool") else { throw t.bad("expected avgpool<d>") }
        try t.requireImage(atLeast: d)
        return [AvgPool(size: d)]
    }
}
