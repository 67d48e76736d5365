/// The shape of one image of a batch, `[C, H, W]` stored contiguously (channel planes, rows).
struct ImageGeometry: Equatable, Sendable {
    let channels: Int
    let height: Int
    let width: Int
    /// Whether an image and its mirror show the same class (objects, garments; not digits).
    let mirrorable: Bool

    /// `mirrorable` defaults to colour images only.
    init(channels: Int, height: Int, width: Int, mirrorable: Bool? = nil) {
        self.channels = channels
        self.height = height
        self.width = width
        self.mirrorable = mirrorable ?? (channels == 3)
    }

    /// Floats in one channel plane (`H * W`).
    var plane: Int { height * width }
    /// Floats in one image (`C * H * W`).
    var count: Int { channels * height * width }
}
