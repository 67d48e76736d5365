/// A NumPy dtype of the kinds we read: u1, i1, i2, i4, i8, f4, f8, in either byte order.
public struct NumpyDType: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Character, Sendable { case unsigned = "u", signed = "i", float = "f", bool = "b" }
    public var kind: Kind
    public var size: Int
    public var bigEndian: Bool

    /// Parses a type code such as `u1`, `<f4`, `>i8`, `float32`, `uint8`.
    public init(code: String) throws {
        var c = Substring(code)
        bigEndian = false
        if let f = c.first, "<>|=".contains(f) { bigEndian = f == ">"; c = c.dropFirst() }
        let named: [String: (Kind, Int)] = [
            "uint8": (.unsigned, 1), "int8": (.signed, 1), "int16": (.signed, 2), "int32": (.signed, 4),
            "int64": (.signed, 8), "float32": (.float, 4), "float64": (.float, 8), "bool": (.bool, 1),
            "b1": (.bool, 1), "?": (.bool, 1),
        ]
        if let (k, s) = named[String(c)] {
            kind = k; size = s
        } else if let f = c.first, let k = Kind(rawValue: f), let s = Int(c.dropFirst()) {
            kind = k; size = s
        } else {
            throw NumpyError("dtype \(quote(code)) is not supported (u1, i1, i2, i4, i8, f4, f8 are)")
        }
        let ok: Bool
        switch kind {
        case .unsigned, .bool: ok = size == 1
        case .signed: ok = [1, 2, 4, 8].contains(size)
        case .float: ok = size == 4 || size == 8
        }
        guard ok else { throw NumpyError("dtype \(quote(code)) is not supported (u1, i1, i2, i4, i8, f4, f8 are)") }
        if size == 1 { bigEndian = false }
    }

    mutating func setByteOrder(_ order: String) throws {
        switch order {
        case "<", "|", "=": bigEndian = false  // this reader runs on little-endian machines
        case ">": bigEndian = size > 1
        default: throw NumpyError("dtype byte order \(quote(order)) is not one of < > | =")
        }
    }

    /// NumPy's spelling, e.g. `<f4`, `|u1`.
    public var description: String {
        (size == 1 ? "|" : bigEndian ? ">" : "<") + String(kind.rawValue) + String(size)
    }
}

struct NumpyError: Error { let message: String; init(_ m: String) { message = m } }

/// A NumPy array decoded from a pickle: its shape, dtype and raw bytes (still in file order).
public struct NumpyArray: Sendable {
    public let shape: [Int]
    public let dtype: NumpyDType
    public let fortran: Bool
    let data: PickleBytes

    public var count: Int { shape.reduce(1, *) }

    init(shape: [Int], dtype: NumpyDType, fortran: Bool, data: PickleBytes) throws {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw NumpyError("array shape \(shape) overflows") }
            n = p
        }
        let (bytes, o) = n.multipliedReportingOverflow(by: dtype.size)
        guard !o, bytes == data.count else {
            throw NumpyError("array of shape \(shape) and dtype \(dtype) does not match the \(data.count) data bytes the pickle holds")
        }
        self.shape = shape; self.dtype = dtype; self.fortran = fortran; self.data = data
    }

    /// Element `i` of the raw buffer (file order) as a Double.
    @inline(__always)
    private static func load(_ p: UnsafeRawBufferPointer, _ i: Int, _ t: NumpyDType) -> Double {
        let o = i * t.size
        switch (t.kind, t.size) {
        case (.unsigned, _), (.bool, _): return Double(p[o])
        case (.signed, 1): return Double(Int8(bitPattern: p[o]))
        case (.signed, 2): let v = p.loadUnaligned(fromByteOffset: o, as: UInt16.self); return Double(Int16(bitPattern: t.bigEndian ? v.byteSwapped : v))
        case (.signed, 4): let v = p.loadUnaligned(fromByteOffset: o, as: UInt32.self); return Double(Int32(bitPattern: t.bigEndian ? v.byteSwapped : v))
        case (.signed, _): let v = p.loadUnaligned(fromByteOffset: o, as: UInt64.self); return Double(Int64(bitPattern: t.bigEndian ? v.byteSwapped : v))
        case (.float, 4): let v = p.loadUnaligned(fromByteOffset: o, as: UInt32.self); return Double(Float(bitPattern: t.bigEndian ? v.byteSwapped : v))
        case (.float, _): let v = p.loadUnaligned(fromByteOffset: o, as: UInt64.self); return Double(bitPattern: t.bigEndian ? v.byteSwapped : v)
        }
    }

    /// Index in file order of logical (C-order) element `i`: the identity unless Fortran-ordered.
    private func fileIndex(_ i: Int) -> Int {
        guard fortran, shape.count > 1 else { return i }
        var rest = i, f = 0, stride = 1
        var idx = [Int](repeating: 0, count: shape.count)
        for d in (0 ..< shape.count).reversed() { idx[d] = rest % shape[d]; rest /= shape[d] }
        for d in 0 ..< shape.count { f += idx[d] * stride; stride *= shape[d] }
        return f
    }

    /// The elements in C order as Doubles (exact for every supported dtype but i8 beyond 2^53).
    public func doubles() -> [Double] {
        data.withUnsafeBytes { p in (0 ..< count).map { NumpyArray.load(p, fileIndex($0), dtype) } }
    }

    /// The elements in C order as bytes: u1 data is copied once, without conversion; other dtypes
    /// must hold integers in 0...255, or, if `floatScale` is given, floats multiplied by it and rounded.
    public func bytesCOrder(floatScale: Double? = nil) throws -> [UInt8] {
        if dtype.kind == .unsigned, !fortran || shape.count < 2 { return data.array }
        let values = doubles()
        var out = [UInt8](repeating: 0, count: values.count)
        let scale = dtype.kind == .float ? (floatScale ?? 1) : 1
        for (i, v) in values.enumerated() {
            let s = (v * scale).rounded()
            guard s >= 0, s <= 255, s.isFinite else {
                throw NumpyError("value \(v) at element \(i) is outside the 0–255 pixel range")
            }
            out[i] = UInt8(s)
        }
        return out
    }
}
