/// A dense Float tensor: a shape and its elements in row-major (C) order.
public struct Tensor: Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor data does not match its shape \(shape)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose elements the caller fills completely (saves zeroing large buffers).
    public init(uninitialized shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        data = [Float](unsafeUninitializedCapacity: n) { buf, count in
            fill(buf)
            count = n
        }
    }

    public var count: Int { data.count }
    /// Batch size: the first dimension.
    public var batch: Int { shape[0] }
    /// Elements per batch item.
    public var itemSize: Int { shape.dropFirst().reduce(1, *) }
}

/// `count` floats that the caller fills completely before reading (saves zeroing large buffers).
func uninitializedFloats(_ count: Int) -> [Float] { [Float](unsafeUninitializedCapacity: count) { _, n in n = count } }
