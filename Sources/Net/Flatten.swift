/// Flatten: [B, C, H, W] → [B, C·H·W] (a view change only).
public final class Flatten: Layer {
    private var inputShape = [Int]()
    public init() {}
    public var spec: String { "flatten" }
    public func outputShape(_ input: [Int]) -> [Int] { [input.reduce(1, *)] }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        return Tensor(shape: [x.batch, x.itemSize], data: x.data)
    }

    public func backward(_ dy: Tensor, needInputGrad: Bool) -> Tensor {
        Tensor(shape: inputShape, data: dy.data)
    }
}

extension Flatten: SpecLayer {
    public static let grammar = "  flatten                    [C, H, W] → [C·H·W] (fc does it itself)"
    public static func names(_ name: String) -> Bool { name == "flatten" }
    public static func build(_ t: inout LayerToken) throws -> [Layer] { [Flatten()] }
}
