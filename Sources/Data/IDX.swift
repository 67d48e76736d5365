/// The IDX format of MNIST and Fashion-MNIST: a big-endian header (magic 0x0000_08TT_RR, with type
/// TT = 0x08 for unsigned bytes and RR the rank), RR big-endian 32-bit dimensions, then the data.
public enum IDX {
    /// A decoded IDX file of unsigned bytes.
    public struct File {
        public var dims: [Int]
        public var bytes: [UInt8]
    }

    /// Parses IDX bytes (already inflated), optionally requiring a rank. `path` only names the file in errors.
    public static func parse(_ data: [UInt8], path: String, rank expected: Int? = nil) throws -> File {
        guard data.count >= 4 else { throw DataError(path, "too short for an IDX header (\(data.count) bytes)") }
        let magic = be32(data, 0)
        guard data[0] == 0, data[1] == 0 else {
            throw DataError(path, "not an IDX file: magic 0x\(hex(magic)) does not start with two zero bytes")
        }
        guard data[2] == 0x08 else {
            throw DataError(path, "IDX element type 0x\(String(data[2], radix: 16)) is not unsigned byte (0x08)")
        }
        let rank = Int(data[3])
        if let e = expected, e != rank {
            let kind = e == 3 ? "an IDX images file (magic 0x00000803)" : "an IDX labels file (magic 0x00000801)"
            throw DataError(path, "expected \(kind), found magic 0x\(hex(magic)) (rank \(rank))")
        }
        guard rank >= 1, rank <= 4 else { throw DataError(path, "IDX rank \(rank) is not between 1 and 4") }
        let header = 4 + 4 * rank
        guard data.count >= header else { throw DataError(path, "truncated IDX header") }
        var dims = [Int]()
        var total = 1
        for r in 0 ..< rank {
            let d = Int(be32(data, 4 + 4 * r))
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, p <= 1 << 34 else { throw DataError(path, "IDX dimensions \(dims + [d]) are implausibly large") }
            dims.append(d); total = p
        }
        guard data.count - header == total else {
            let verb = data.count - header < total ? "truncated" : "has trailing bytes"
            throw DataError(path, "\(verb): dimensions \(dims) need \(total) data bytes, file has \(data.count - header)")
        }
        return File(dims: dims, bytes: Array(data[header...]))
    }

    /// Reads an IDX images file (magic 0x00000803: N × rows × columns), raw or gzip-compressed.
    public static func readImages(_ path: String) throws -> (count: Int, height: Int, width: Int, pixels: [UInt8]) {
        let f = try parse(FileIO.readMaybeGzip(path), path: path, rank: 3)
        guard f.dims[1] > 0, f.dims[2] > 0 else { throw DataError(path, "images of \(f.dims[1])×\(f.dims[2]) pixels are empty") }
        return (f.dims[0], f.dims[1], f.dims[2], f.bytes)
    }

    /// Reads an IDX labels file (magic 0x00000801), raw or gzip-compressed.
    public static func readLabels(_ path: String) throws -> [UInt8] {
        let f = try parse(FileIO.readMaybeGzip(path), path: path, rank: 1)
        return f.bytes
    }

    /// Reads an images file and its labels file into one set, checking that they agree.
    public static func readSet(images: String, labels: String, classNames: [String]) throws -> ImageSet {
        let im = try readImages(images)
        let lb = try readLabels(labels)
        guard lb.count == im.count else {
            throw DataError(labels, "has \(lb.count) labels but \(images) has \(im.count) images")
        }
        if let bad = lb.first(where: { Int($0) >= classNames.count }) {
            throw DataError(labels, "label \(bad) is outside 0..<\(classNames.count)")
        }
        return ImageSet(count: im.count, channels: 1, height: im.height, width: im.width, pixels: im.pixels,
                        labels: lb, classNames: classNames)
    }

    /// The IDX file of unsigned bytes `bytes` of shape `dims` (`parse` reads it back).
    public static func encode(dims: [Int], bytes: [UInt8]) -> [UInt8] {
        precondition(dims.count >= 1 && dims.count <= 4 && dims.reduce(1, *) == bytes.count, "IDX dimensions do not match the data")
        var out: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
        for d in dims { out += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: UInt32(d) >> $0) } }
        return out + bytes
    }

    @inline(__always) static func be32(_ d: [UInt8], _ o: Int) -> UInt32 {
        UInt32(d[o]) << 24 | UInt32(d[o + 1]) << 16 | UInt32(d[o + 2]) << 8 | UInt32(d[o + 3])
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}
