/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in le4nn goes through one of these, so a `--seed` fixes a run.
/// Streams that must not depend on scheduling (per-image augmentation, per-member
/// initialisation) are derived with `SeededRNG(seed:stream:)` instead of being drawn
/// in sequence from a shared generator.
public struct SeededRNG: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededRNG.splitMix(&sm); s1 = SeededRNG.splitMix(&sm)
        s2 = SeededRNG.splitMix(&sm); s3 = SeededRNG.splitMix(&sm)
    }

    /// An independent stream identified by `seed` and a path of integers
    /// (for example epoch, batch and image index).
    public init(seed: UInt64, stream: [UInt64]) {
        var h = seed ^ 0x6A09_E667_F3BC_C908
        for v in stream {
            var t = h ^ (v &* 0x9E37_79B9_7F4A_7C15)
            h = SeededRNG.splitMix(&t)
        }
        self.init(seed: h)
    }

    private static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func nextFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * nextDouble() }

    /// Uniform integer in 0..<n (n > 0), without modulo bias.
    public mutating func int(below n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

    /// Standard normal by Box–Muller.
    public mutating func normal() -> Double {
        let u1 = 1.0 - nextDouble()  // (0, 1]
        let u2 = nextDouble()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 use the boost u^(1/shape).
    public mutating func gamma(shape: Double) -> Double {
        if shape < 1 {
            let u = 1.0 - nextDouble()
            return gamma(shape: shape + 1) * pow(u, 1.0 / shape)
        }
        let d = shape - 1.0 / 3.0, c = 1.0 / (9.0 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = 1.0 - nextDouble()
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }

    /// Beta(a, b) from two gamma draws.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a), y = gamma(shape: b)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Fisher–Yates shuffle of `a` in place.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, int(below: i + 1))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
