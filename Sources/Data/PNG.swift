import CPNG

/// An 8-bit image with interleaved channels: 1 (gray) or 3 (RGB). pixels: [H, W, channels]
public struct Bitmap: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]? = nil) {
        precondition(channels == 1 || channels == 3, "a bitmap is gray or RGB")
        self.width = width; self.height = height; self.channels = channels
        self.pixels = pixels ?? [UInt8](repeating: 0, count: width * height * channels)
        precondition(self.pixels.count == width * height * channels, "pixel count does not match the size")
    }

    /// One image of a set (planar `[C, H, W]`, as datasets keep them) as an interleaved bitmap.
    public init(planar: ArraySlice<UInt8>, channels: Int, height: Int, width: Int) {
        self.init(width: width, height: height, channels: channels)
        let plane = height * width
        let base = planar.startIndex
        for c in 0 ..< channels {
            for i in 0 ..< plane { pixels[i * channels + c] = planar[base + c * plane + i] }
        }
    }
}

/// PNG files through libpng's simplified API (which reports errors instead of long-jumping).
public enum PNG {
    /// Encodes a bitmap as PNG bytes.
    public static func encode(_ b: Bitmap) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(b.width)
        image.height = UInt32(b.height)
        image.format = b.channels == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        var size: png_alloc_size_t = 0
        let stride = Int32(b.width * b.channels)
        // First call sizes the output, second fills it.
        guard b.pixels.withUnsafeBytes({ png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil) }) != 0 else {
            throw DataError("", "libpng: \(message(&image))")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let ok = out.withUnsafeMutableBytes { o in
            b.pixels.withUnsafeBytes { png_image_write_to_memory(&image, o.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard ok != 0 else { throw DataError("", "libpng: \(message(&image))") }
        out.removeLast(out.count - Int(size))
        // The simplified API writes no text chunks: the tag goes in right after IHDR by hand.
        out.insert(contentsOf: tag, at: signature.count + 25)
        return out
    }

    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A tEXt chunk `Software: le4nn`, so that le4nn knows the PNGs it may replace (`FileKind`).
    static let tag: [UInt8] = {
        let body = Array("tEXtSoftware".utf8) + [0] + Array("le4nn".utf8)
        let crc = body.withUnsafeBytes { FileIO.crc32($0) }
        return [0, 0, 0, UInt8(body.count - 4)] + body + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: crc >> $0) }
    }()

    /// Whether PNG bytes (at least their start) carry le4nn's tag after the header chunk.
    static func isTagged(_ bytes: [UInt8]) -> Bool {
        let at = signature.count + 25
        return bytes.count >= at + tag.count && Array(bytes[at ..< at + tag.count]) == tag
    }

    /// Writes a PNG file (through a temporary name and a rename) under `policy`.
    public static func write(_ b: Bitmap, to path: String, policy: OutputPolicy = OutputPolicy()) throws {
        do { try FileIO.writeAtomically(try encode(b), to: path, as: .image, policy: policy) } catch let e as DataError where e.file.isEmpty {
            throw DataError(path, e.message)
        }
    }

    /// Reads a PNG file as gray (1 channel) or RGB (3), converting other formats on the way.
    public static func read(_ path: String, channels: Int? = nil) throws -> Bitmap {
        let bytes = try FileIO.read(path)
        // libpng reads from `bytes` until png_image_finish_read, so all of it happens in this closure.
        return try bytes.withUnsafeBytes { raw in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw DataError(path, "not a readable PNG: \(message(&image))")
            }
            defer { png_image_free(&image) }
            let isColor = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
            let ch = channels ?? (isColor ? 3 : 1)
            image.format = ch == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
            let (w, h) = (Int(image.width), Int(image.height))
            guard w > 0, h > 0, w * h <= 1 << 28 else { throw DataError(path, "PNG size \(w)×\(h) is not supported") }
            var b = Bitmap(width: w, height: h, channels: ch)
            let ok = b.pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(w * ch), nil) }
            guard ok != 0 else { throw DataError(path, "corrupt PNG: \(message(&image))") }
            return b
        }
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
