/// SiLU, or swish (Elfwing et al. 2018; Ramachandran et al. 2017): y = x·σ(x), σ the sigmoid;
/// dy/dx = σ(x)·(1 + x·(1 − σ(x))). σ is taken from e^(−|x|), which never overflows.
public final class SiLU: SmoothActivation {
    public var input = Tensor(zeros: [0])
    public init() {}
    public var spec: String { "silu" }

    @inline(__always)
    public static func valueAndSlope(_ x: SIMD8<Float>) -> (value: SIMD8<Float>, slope: SIMD8<Float>) {
        let negative = x .< 0
        let e = expOfNonPositive(x.replacing(with: -x, where: .!negative))  // e^(−|x|)
        let sigma = (1 / (1 + e)).replacing(with: e / (1 + e), where: negative)
        return (x * sigma, sigma * (1 + x * (1 - sigma)))
    }
}

extension SiLU: SpecLayer {
    public static let grammar = "  silu                       SiLU (swish), x·σ(x)"
    public static func names(_ name: String) -> Bool { name == "silu" }
    public static func build(_ t: inout LayerToken) throws -> [Layer] { [SiLU()] }
}
