/// A labelled set of images kept as bytes, contiguous `[N, C, H, W]`.
public struct ImageSet: Sendable {
    public var count: Int
    public var channels: Int
    public var height: Int
    public var width: Int
    /// pixels: [N, C, H, W], 0–255
    public var pixels: [UInt8]
    /// labels: [N], class indices into `classNames`; empty for unlabelled images (the contest dump).
    public var labels: [UInt8]
    public var classNames: [String]

    public init(count: Int, channels: Int, height: Int, width: Int, pixels: [UInt8],
                labels: [UInt8], classNames: [String]) {
        precondition(pixels.count == count * channels * height * width, "pixel count does not match the shape")
        precondition(labels.isEmpty || labels.count == count, "label count does not match the image count")
        self.count = count; self.channels = channels; self.height = height; self.width = width
        self.pixels = pixels; self.labels = labels; self.classNames = classNames
    }

    /// Bytes of one image.
    public var imageSize: Int { channels * height * width }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageSet {
        var px = [UInt8](); px.reserveCapacity(indices.count * imageSize)
        for i in indices { px.append(contentsOf: pixels[i * imageSize ..< (i + 1) * imageSize]) }
        return ImageSet(count: indices.count, channels: channels, height: height, width: width, pixels: px,
                        labels: labels.isEmpty ? [] : indices.map { labels[$0] }, classNames: classNames)
    }

    /// Concatenates sets of the same geometry.
    public static func concatenate(_ sets: [ImageSet]) -> ImageSet {
        guard var all = sets.first else {
            return ImageSet(count: 0, channels: 1, height: 0, width: 0, pixels: [], labels: [], classNames: [])
        }
        for s in sets.dropFirst() {
            all.pixels += s.pixels
            all.labels += s.labels
            all.count += s.count
        }
        return all
    }

    /// Number of images of each class.
    public func classCounts() -> [Int] { ImageSet.counts(of: labels, classes: classNames.count) }

    /// How often each class index occurs in `labels` (at least `classes` entries).
    public static func counts(of labels: [UInt8], classes: Int = 0) -> [Int] {
        var counts = [Int](repeating: 0, count: max(classes, Int(labels.max() ?? 0) + 1))
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }
}
