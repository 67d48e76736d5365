/// A grid of small images, each scaled up and captioned, so a person can look at many at once.
public struct ContactSheet {
    /// One cell: a planar `[C, H, W]` image and a caption (letters, digits and `.-:>→%/#=_(),` are
    /// drawn; a newline starts another caption line).
    public struct Cell {
        public var pixels: ArraySlice<UInt8>
        public var caption: String
        public init(pixels: ArraySlice<UInt8>, caption: String) { self.pixels = pixels; self.caption = caption }
    }

    public var channels: Int
    public var height: Int
    public var width: Int
    public var columns: Int
    /// Integer upscale of each image (nearest neighbour): 28×28 digits are too small to see at 1.
    public var scale: Int
    /// Size of each font pixel in captions and header: at 1 the 3×5 font is hard to read on a screen.
    public var textScale: Int
    /// Lines above the grid saying what the sheet shows and how to read its captions.
    public var header: [String] = []
    public var cells: [Cell] = []

    public init(channels: Int, height: Int, width: Int, columns: Int = 10, scale: Int = 2, textScale: Int = 1) {
        self.channels = channels; self.height = height; self.width = width
        self.columns = max(1, columns); self.scale = max(1, scale); self.textScale = max(1, textScale)
    }

    public mutating func add(_ pixels: ArraySlice<UInt8>, caption: String = "") {
        cells.append(Cell(pixels: pixels, caption: caption))
    }

    /// Renders the sheet: the header, then the images on a dark gray background with captions in
    /// white below each. A cell is as wide as its image or its widest caption line, whichever is wider.
    public func render() -> Bitmap {
        let pad = 4, ts = textScale, lineHeight = (Font.height + 2) * ts
        let captions = cells.map { $0.caption.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let captionLines = captions.map { $0.count }.max() ?? 0
        let hasCaptions = cells.contains { !$0.caption.isEmpty }
        let captionHeight = hasCaptions ? captionLines * lineHeight + 1 : 0
        let widestCaption = captions.joined().map { Font.width($0, scale: ts) }.max() ?? 0
        let cellW = max(width * scale, widestCaption) + pad, cellH = height * scale + pad + captionHeight
        let headerHeight = header.isEmpty ? 0 : header.count * lineHeight + pad
        let rows = max(1, (cells.count + columns - 1) / columns)
        let cols = min(columns, max(1, cells.count))
        let sheetW = max(cols * cellW + pad, (header.map { Font.width($0, scale: ts) }.max() ?? 0) + 2 * pad)
        let sheetH = headerHeight + rows * cellH + pad
        var sheet = Bitmap(width: sheetW, height: sheetH, channels: 3, pixels: [UInt8](repeating: 48, count: sheetW * sheetH * 3))
        for (j, line) in header.enumerated() { sheet.drawText(line, x: pad, y: pad + j * lineHeight, scale: ts) }
        let plane = height * width
        for (k, cell) in cells.enumerated() {
            let x0 = pad + (k % columns) * cellW, y0 = headerHeight + pad + (k / columns) * cellH
            let base = cell.pixels.startIndex
            for y in 0 ..< height * scale {
                for x in 0 ..< width * scale {
                    let src = (y / scale) * width + x / scale
                    let dst = ((y0 + y) * sheet.width + x0 + x) * 3
                    for c in 0 ..< 3 {
                        sheet.pixels[dst + c] = cell.pixels[base + (channels == 3 ? c * plane : 0) + src]
                    }
                }
            }
            for (j, line) in captions[k].enumerated() {
                sheet.drawText(line, x: x0, y: y0 + height * scale + 2 + j * lineHeight, maxWidth: cellW - pad, scale: ts)
            }
        }
        return sheet
    }
}

/// A 3×5 pixel font: enough for indices, classes, arrows and percentages in captions, and for plot labels.
enum Font {
    static let height = 5
    static let advance = 4
    /// Each glyph is five rows of three bits, top row first, leftmost pixel the high bit.
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [3, 4, 4, 4, 3], "D": [6, 5, 5, 5, 6],
        "E": [7, 4, 6, 4, 7], "F": [7, 4, 6, 4, 4], "G": [3, 4, 5, 5, 3], "H": [5, 5, 7, 5, 5],
        "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 2], "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7],
        "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [2, 5, 5, 5, 2], "P": [6, 5, 6, 4, 4],
        "Q": [2, 5, 5, 6, 3], "R": [6, 5, 6, 5, 5], "S": [3, 4, 2, 1, 6], "T": [7, 2, 2, 2, 2],
        "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5],
        "Y": [5, 5, 2, 2, 2], "Z": [7, 1, 2, 4, 7],
        ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], ">": [4, 2, 1, 2, 4], ":": [0, 2, 0, 2, 0],
        "%": [5, 1, 2, 4, 5], "/": [1, 1, 2, 4, 4], "#": [5, 7, 5, 7, 5], "=": [0, 7, 0, 7, 0],
        "_": [0, 0, 0, 0, 7], "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4], ",": [0, 0, 0, 2, 4],
        "→": [2, 1, 7, 1, 2],
    ]

    /// Pixels `text` takes across at `scale`.
    static func width(_ text: String, scale: Int = 1) -> Int { text.count * advance * scale }

}

/// Simple drawing for captions and plots.
public extension Bitmap {
    /// Draws `text` with the 3×5 font, each font pixel `scale`×`scale`, top-left corner at (x, y),
    /// clipped to `maxWidth` pixels.
    mutating func drawText(_ text: String, x: Int, y: Int, maxWidth: Int = Int.max, color: [UInt8] = [255, 255, 255],
                           scale: Int = 1) {
        let s = max(1, scale)
        var cx = x
        for ch in text.uppercased() {
            guard cx + 3 * s <= x + min(maxWidth, width) else { break }
            for (row, bits) in (Font.glyphs[ch] ?? []).enumerated() {
                for col in 0 ..< 3 where bits & (4 >> col) != 0 {
                    for dy in 0 ..< s { for dx in 0 ..< s { setPixel(cx + col * s + dx, y + row * s + dy, color) } }
                }
            }
            cx += Font.advance * s
        }
    }

    /// Sets one pixel (ignored outside the bitmap). `color` has one value per channel.
    mutating func setPixel(_ x: Int, _ y: Int, _ color: [UInt8]) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let o = (y * width + x) * channels
        for c in 0 ..< channels { pixels[o + c] = color[min(c, color.count - 1)] }
    }

    /// A straight line from (x0, y0) to (x1, y1) (Bresenham).
    mutating func drawLine(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: [UInt8]) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            setPixel(x, y, color)
            if x == x1 && y == y1 { return }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }
}
