/// NumPy's `.npy` arrays and `.npz` archives (a zip of `.npy` files), so that `numpy.load` opens
/// what we save and we open what NumPy saves (stored or deflated members).
public struct NPYArray: Equatable, Sendable {
    public enum Values: Equatable, Sendable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
        case uint8([UInt8])
        /// A 0-d unicode array (`<U`): how text such as an architecture string is kept.
        case text(String)
    }

    public var shape: [Int]
    public var values: Values

    public init(shape: [Int], values: Values) { self.shape = shape; self.values = values }
    public init(_ text: String) { shape = []; values = .text(text) }
    public init(shape: [Int], _ floats: [Float]) { self.shape = shape; values = .float32(floats) }

    public var floats: [Float]? {
        switch values {
        case .float32(let v): return v
        case .float64(let v): return v.map(Float.init)
        default: return nil
        }
    }

    public var text: String? { if case .text(let s) = values { return s } else { return nil } }

    /// The NumPy dtype it is stored as: `<f4`, `<f8`, `<i8`, `|u1` or `<U…` for text.
    public var descr: String {
        switch values {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        case .text(let s): return "<U\(max(1, s.unicodeScalars.count))"
        }
    }

    /// The `.npy` file bytes (format version 1.0).
    public func npyBytes() -> [UInt8] {
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + newline is a multiple of 64.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let hl = header.utf8.count
        out += [UInt8(hl & 0xff), UInt8(hl >> 8)] + Array(header.utf8)
        switch values {
        case .float32(let v): v.withUnsafeBytes { out += $0 }
        case .float64(let v): v.withUnsafeBytes { out += $0 }
        case .int64(let v): v.withUnsafeBytes { out += $0 }
        case .uint8(let v): out += v
        case .text(let s):
            let scalars = s.isEmpty ? [Unicode.Scalar(0)] : Array(s.unicodeScalars)
            for u in scalars { withUnsafeBytes(of: u.value.littleEndian) { out += $0 } }
        }
        return out
    }

    /// Parses `.npy` bytes. `name` only names the array in errors.
    public static func parse(_ b: [UInt8], name: String) throws -> NPYArray {
        guard b.count >= 10, b[0] == 0x93, Array(b[1 ..< 6]) == Array("NUMPY".utf8) else {
            throw DataError(name, "not a .npy array (bad magic)")
        }
        let (hl, start) = b[6] == 1 ? (Int(b[8]) | Int(b[9]) << 8, 10)
            : (b.count >= 12 ? (Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24, 12) : (-1, 0))
        guard hl >= 0, start + hl <= b.count else { throw DataError(name, "truncated .npy header") }
        let header = String(decoding: b[start ..< start + hl], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)': ") else { return nil }
            return header[r.upperBound...]
        }
        guard let d = field("descr"), let q1 = d.dropFirst().firstIndex(of: "'") else {
            throw DataError(name, ".npy header has no descr")
        }
        let descr = String(d[d.index(after: d.startIndex) ..< q1])
        guard let f = field("fortran_order"), f.hasPrefix("False") else {
            throw DataError(name, ".npy array in Fortran order is not supported here")
        }
        guard let s = field("shape"), let close = s.firstIndex(of: ")"), close > s.startIndex else {
            throw DataError(name, ".npy header has no shape")
        }
        let dims = s[s.index(after: s.startIndex) ..< close].split(separator: ",")
            .map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        var shape = [Int]()
        for t in dims {
            guard let n = Int(t), n >= 0 else { throw DataError(name, ".npy shape \(quote(t)) is not a size") }
            shape.append(n)
        }
        let n = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let body = b[(start + hl)...]
        func need(_ size: Int) throws {
            guard n < Int.max / 8, body.count == n * size else {
                throw DataError(name, ".npy array \(shape) \(quote(descr)) does not match its \(body.count) data bytes")
            }
        }
        func load<T>(_: T.Type) -> [T] {
            body.withUnsafeBytes { raw in (0 ..< n).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        switch descr {
        case "<f4": try need(4); return NPYArray(shape: shape, values: .float32(load(Float.self)))
        case "<f8": try need(8); return NPYArray(shape: shape, values: .float64(load(Double.self)))
        case "<i8": try need(8); return NPYArray(shape: shape, values: .int64(load(Int64.self)))
        case "|u1", "<u1": try need(1); return NPYArray(shape: shape, values: .uint8(Array(body)))
        default:
            guard descr.hasPrefix("<U"), let len = Int(descr.dropFirst(2)), len >= 0, len <= body.count, shape.isEmpty else {
                throw DataError(name, ".npy dtype \(quote(descr)) is not supported")
            }
            guard body.count == 4 * len else { throw DataError(name, ".npy text needs \(4 * len) bytes, has \(body.count)") }
            let codes = body.withUnsafeBytes { raw in (0 ..< len).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
            let scalars = codes.prefix { $0 != 0 }.compactMap(Unicode.Scalar.init)
            return NPYArray(String(String.UnicodeScalarView(scalars)))
        }
    }
}

private extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}

/// Zip archives of `.npy` members, as `numpy.savez` writes them.
public enum NPZ {
    /// Writes the arrays (stored, uncompressed) under `name.npy`, atomically, as a file of
    /// `kind` under `policy` (see `FileIO.writeAtomically`).
    public static func write(_ arrays: [(String, NPYArray)], to path: String, as kind: FileKind,
                             policy: OutputPolicy = OutputPolicy()) throws {
        try FileIO.writeAtomically(try encode(arrays, path: path), to: path, as: kind, policy: policy)
    }

    /// The zip bytes of an archive of `arrays`. `path` only names the file in errors.
    public static func encode(_ arrays: [(String, NPYArray)], path: String) throws -> [UInt8] {
        var out = [UInt8](), central = [UInt8]()
        func u16(_ v: Int, _ b: inout [UInt8]) { b += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff)] }
        func u32(_ v: UInt32, _ b: inout [UInt8]) { withUnsafeBytes(of: v.littleEndian) { b += $0 } }
        for (name, array) in arrays {
            let data = array.npyBytes()
            let fileName = Array((name + ".npy").utf8)
            let crc = data.withUnsafeBytes { FileIO.crc32($0) }
            let offset = out.count
            guard data.count < Int(UInt32.max), offset < Int(UInt32.max) else {
                throw DataError(path, "array '\(name)' is too large for a zip without zip64")
            }
            // local file header
            u32(0x0403_4b50, &out); u16(20, &out); u16(0, &out); u16(0, &out); u16(0, &out); u16(0x21, &out)
            u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out)
            u16(fileName.count, &out); u16(0, &out); out += fileName; out += data
            // central directory entry
            u32(0x0201_4b50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u16(0x21, &central); u32(crc, &central)
            u32(UInt32(data.count), &central); u32(UInt32(data.count), &central)
            u16(fileName.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0, &central); u32(UInt32(offset), &central); central += fileName
        }
        let cdOffset = out.count
        out += central
        u32(0x0605_4b50, &out); u16(0, &out); u16(0, &out); u16(arrays.count, &out); u16(arrays.count, &out)
        u32(UInt32(central.count), &out); u32(UInt32(cdOffset), &out); u16(0, &out)
        return out
    }

    /// The most bytes one member may unpack to: the largest array of the largest network Net
    /// builds (2^26 weights, 256 MiB) and its header. Checked against the size the directory
    /// declares, before anything is inflated, so a zip bomb costs no memory.
    public static let maxMemberBytes = (1 << 28) + (1 << 16)
    /// The most bytes the members of one archive may unpack to (le4nn's models are megabytes; a
    /// checkpoint of the largest network, with its optimizer state and averages, about 1.3 GiB).
    public static let maxTotalBytes = 2 << 30

    /// Reads every `.npy` member of an `.npz` archive, in archive order, names without `.npy`.
    public static func read(_ path: String) throws -> [(String, NPYArray)] {
        try decode(FileIO.read(path), path: path)
    }

    /// The members of the `.npz` archive in `b`; `path` names it in errors.
    public static func decode(_ b: [UInt8], path: String) throws -> [(String, NPYArray)] {
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
        guard b.count >= 22,
              let eocd = stride(from: b.count - 22, through: max(0, b.count - 22 - 65535), by: -1)
                  .first(where: { u32($0) == 0x0605_4b50 }) else {
            throw DataError(path, "not an .npz model file (no zip directory found)")
        }
        // The directory first: every member's place and sizes are checked before anything is
        // inflated, so overlapping members or inflated sizes cannot multiply a small file into
        // gigabytes of memory.
        struct Entry { var name: String, method: Int, crc: UInt32, data: Range<Int>, size: Int }
        var entries = [Entry]()
        var p = u32(eocd + 16), total = 0
        for _ in 0 ..< u16(eocd + 10) {
            guard p + 46 <= b.count, u32(p) == 0x0201_4b50 else { throw DataError(path, "corrupt zip directory") }
            let method = u16(p + 10), crc = UInt32(u32(p + 16)), csize = u32(p + 20), usize = u32(p + 24)
            let nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32), local = u32(p + 42)
            guard p + 46 + nameLen <= b.count, local + 30 <= b.count else { throw DataError(path, "corrupt zip directory") }
            let name = String(decoding: b[p + 46 ..< p + 46 + nameLen], as: UTF8.self)
            p += 46 + nameLen + extraLen + commentLen
            let dataStart = local + 30 + u16(local + 26) + u16(local + 28)
            guard dataStart + csize <= b.count else { throw DataError(path, "member \(quote(name)) is truncated") }
            let data = dataStart ..< dataStart + csize
            guard usize <= NPZ.maxMemberBytes else {
                throw DataError(path, "member \(quote(name)) declares \(usize >> 20) MiB, more than the \(NPZ.maxMemberBytes >> 20) MiB "
                    + "an array of a model may hold")
            }
            // Deflate expands at most 1032-fold: a larger declared size is a lie, refused before inflating.
            guard method != 8 || usize <= 1032 * csize + 1032 else {
                throw DataError(path, "member \(quote(name)) declares \(usize) bytes, more than its \(csize) compressed bytes can hold")
            }
            total += usize
            guard total <= NPZ.maxTotalBytes else {
                throw DataError(path, "its members would unpack to more than \(NPZ.maxTotalBytes >> 30) GiB, the most a model file may hold")
            }
            entries.append(Entry(name: name, method: method, crc: crc, data: data, size: usize))
        }
        // Overlaps are found in start order against the member reaching furthest so far: comparing
        // every pair took 2 s for the 65,535 members a 3 MB directory can list.
        var furthest: Entry?
        for e in entries.filter({ !$0.data.isEmpty }).sorted(by: { $0.data.lowerBound < $1.data.lowerBound }) {
            if let f = furthest, f.data.upperBound > e.data.lowerBound {
                throw DataError(path, "members \(quote(f.name)) and \(quote(e.name)) share bytes: not an archive numpy writes")
            }
            if furthest.map({ e.data.upperBound > $0.data.upperBound }) ?? true { furthest = e }
        }
        var result = [(String, NPYArray)]()
        for e in entries {
            let member = "member \(quote(e.name))"
            let raw = Array(b[e.data])
            let data: [UInt8]
            switch e.method {
            case 0: data = raw
            case 8: data = try FileIO.gunzip(raw, path: path + " " + member, limit: max(e.size, 1), windowBits: -15)
            default: throw DataError(path, "\(member) uses zip method \(e.method); only stored and deflate are read")
            }
            // Changed bytes in a stored member would otherwise load as wrong weights without a word.
            let actual = data.withUnsafeBytes { FileIO.crc32($0) }
            guard actual == e.crc else {
                throw DataError(path, "\(member) is damaged: its data has CRC-32 \(String(actual, radix: 16)), "
                    + "the zip directory says \(String(e.crc, radix: 16))")
            }
            let short = e.name.hasSuffix(".npy") ? String(e.name.dropLast(4)) : e.name
            result.append((short, try NPYArray.parse(data, name: path + " " + member)))
        }
        return result
    }
}
