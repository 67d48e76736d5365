/// The shape of one image of a batch, `[C, H, W]` stored contiguously (channel planes, rows).
struct ImageGeometry: Equatable, Sendable {
    let channels: Int
    let height: Int
    let width: Int

    /// Floats in one channel plane (`H * W`).
    var plane: Int { height * width }
    /// Floats in one image (`C * H * W`).
    var count: Int { channels * height * width }
}
