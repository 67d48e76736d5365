import Foundation
import LE4Data

/// ReLU: y = max(x, 0); the gradient passes where x > 0 (course formula 25).
public final class ReLU: Layer {
    private var y = Tensor(zeros: [0])
    public init() {}
    public var spec: String { "relu" }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    // x: any shape → y: same
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let out = Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                Threads.parallelFor(xp.count, minChunk: 1 << 15) { r in
                    zeroWhereNotPositive(xp.baseAddress! + r.lowerBound, of: xp.baseAddress! + r.lowerBound,
                                              into: y.baseAddress! + r.lowerBound, count: r.count)
                }
            }
        }
        if training { y = out }
        return out
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(uninitialized: dy.shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                y.data.withUnsafeBufferPointer { yp in
                    Threads.parallelFor(d.count, minChunk: 1 << 15) { r in
                        zeroWhereNotPositive(d.baseAddress! + r.lowerBound, of: yp.baseAddress! + r.lowerBound,
                                                  into: dx.baseAddress! + r.lowerBound, count: r.count)
                    }
                }
            }
        }
    }
}

/// A smooth activation applied point by point in SIMD: `valueAndSlope` gives y = f(x) and
/// dy/dx for eight values at once. Forward keeps x in training; backward multiplies dy by the
/// slope at x. A new one (SiLU.swift) is its file of `valueAndSlope` and a line in
/// `Network.layerTypes`.
public protocol SmoothActivation: Layer {
    /// f(x) and f′(x), lane by lane.
    static func valueAndSlope(_ x: SIMD8<Float>) -> (value: SIMD8<Float>, slope: SIMD8<Float>)
    /// x of the last training pass, for backward.
    var input: Tensor { get set }
}

extension SmoothActivation {
    public func outputShape(_ input: [Int]) -> [Int] { input }

    // x: any shape → y: same. Training keeps x: the slope is taken at x in backward.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { input = x }
        return Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                Threads.parallelFor(xp.count, minChunk: 1 << 14) { r in
                    Self.apply(xp.baseAddress! + r.lowerBound, nil, into: y.baseAddress! + r.lowerBound, r.count)
                }
            }
        }
    }

    // dy: same shape as x → dx = dy·f′(x)
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(uninitialized: dy.shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                input.data.withUnsafeBufferPointer { xp in
                    Threads.parallelFor(d.count, minChunk: 1 << 14) { r in
                        Self.apply(xp.baseAddress! + r.lowerBound, d.baseAddress! + r.lowerBound,
                                   into: dx.baseAddress! + r.lowerBound, r.count)
                    }
                }
            }
        }
    }

    /// y = f(x) (dy nil) or dy·f′(x) over n elements, eight at a time; the last partial block
    /// goes through the same SIMD code, copied in and out.
    @inline(__always)
    static func apply(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>, _ n: Int) {
        let rx = UnsafeRawPointer(x), ro = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 8 <= n {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let (value, slope) = valueAndSlope(v)
            var r = value
            if let dy { r = UnsafeRawPointer(dy).loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * slope }
            ro.storeBytes(of: r, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        guard i < n else { return }
        var v = SIMD8<Float>(), d = SIMD8<Float>()
        for j in 0 ..< n - i { v[j] = x[i + j]; d[j] = dy?[i + j] ?? 0 }
        let (value, slope) = valueAndSlope(v)
        let r = dy == nil ? value : d * slope
        for j in 0 ..< n - i { out[i + j] = r[j] }
    }

    /// e^x for x ≤ 0: x = n·ln 2 + r with |r| ≤ ½ln 2 (ln 2 in two parts, so r is exact), e^r by its
    /// Taylor series to r⁷ (relative error below 1e-8), 2ⁿ written into the exponent bits. x is
    /// clamped at −87, where e^x ≈ 2⁻¹²⁶ is the smallest normal Float: SiLU needs e^x only
    /// next to terms of order 1, so the clamp changes nothing they return. n is rounded by adding 1.5·2²³,
    /// which leaves it in the low bits of the sum: the library's SIMD Float-to-Int32 conversion
    /// is a scalar loop that took a fifth of a cifar-fast training step.
    @inline(__always)
    static func expOfNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let x = x.replacing(with: -87, where: x .< -87)
        let magic: Float = 12_582_912, magicBits: Int32 = 0x4B40_0000
        let shifted = x * 1.44269504 + magic
        let n = shifted - magic
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        // Horner's rule over 1/k! for k = 7 down to 0.
        var e = SIMD8<Float>(repeating: 1 / 5040)
        e = e * r + 1 / 720; e = e * r + 1 / 120; e = e * r + 1 / 24
        e = e * r + 1 / 6; e = e * r + 1 / 2; e = e * r + 1; e = e * r + 1
        let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- magicBits &+ 127) &<< 23
        return e * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }
}

/// GELU (Hendrycks and Gimpel), the exact form with erf that PyTorch's `nn.GELU()` and airbench
/// use, not the tanh approximation: y = x·Φ(x), Φ the standard normal distribution function;
/// dy/dx = Φ(x) + x·φ(x), φ its density. Computed by the kernel `gelu` (Kernels/gelu.c).
public final class GELU: Layer {
    private var input = Tensor(zeros: [0])
    public init() {}
    public var spec: String { "gelu" }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    // x: any shape → y: same. Training keeps x: the slope is taken at x in backward.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if training { input = x }
        return Self.apply(x, dy: nil)
    }

    // dy: same shape as x → dx = dy·(Φ(x) + x·φ(x))
    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor { Self.apply(input, dy: dy) }

    /// x·Φ(x), or with dy, dy·(Φ(x) + x·φ(x)), split across threads.
    private static func apply(_ x: Tensor, dy: Tensor?) -> Tensor {
        let gelu = ISA.active.kernels.gelu
        return Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in
                (dy?.data ?? []).withUnsafeBufferPointer { dp in
                    Threads.parallelFor(xp.count, minChunk: 1 << 14) { r in
                        gelu(xp.baseAddress! + r.lowerBound, dy == nil ? nil : dp.baseAddress! + r.lowerBound,
                             r.count, y.baseAddress! + r.lowerBound)
                    }
                }
            }
        }
    }
}

/// Sigmoid: y = 1 / (1 + e^(−x)); dy/dx = y(1 − y).
public final class Sigmoid: Layer {
    private var y = Tensor(zeros: [0])
    public init() {}
    public var spec: String { "sigmoid" }
    public func outputShape(_ input: [Int]) -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let out = Tensor(uninitialized: x.shape) { y in
            x.data.withUnsafeBufferPointer { xp in for i in 0 ..< xp.count { y[i] = 1 / (1 + exp(-xp[i])) } }
        }
        if training { y = out }
        return out
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(uninitialized: dy.shape) { dx in
            dy.data.withUnsafeBufferPointer { d in
                y.data.withUnsafeBufferPointer { yp in for i in 0 ..< d.count { dx[i] = d[i] * yp[i] * (1 - yp[i]) } }
            }
        }
    }
}

extension ReLU: SpecLayer {
    public static let grammar = "  relu                       ReLU, max(x, 0)"
    public static func names(_ name: String) -> Bool { name == "relu" }
    public static func build(_ t: inout LayerToken) throws -> [Layer] { [ReLU()] }
}

extension Sigmoid: SpecLayer {
    public static let grammar = "  sigmoid                    sigmoid, 1/(1 + e^(−x))"
    public static func names(_ name: String) -> Bool { name == "sigmoid" }
    public static func build(_ t: inout LayerToken) throws -> [Layer] { [Sigmoid()] }
}

extension GELU: SpecLayer {
    public static let grammar = "  gelu                       GELU, exact: x·Φ(x)"
    public static func names(_ name: String) -> Bool { name == "gelu" }
    public static func build(_ t: inout LayerToken) throws -> [Layer] { [GELU()] }
}
