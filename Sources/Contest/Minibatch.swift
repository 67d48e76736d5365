import Augment
import LE4Data
import Net

/// The one owner of how a minibatch is made: images `indices` of a set as network input
/// x: [B, C, H, W] (pixels scaled to [0, 1]), their one-hot targets [B, classes], and the chosen
/// augmentations applied to both for (epoch, step), each image from its own seeded stream.
/// `train`, `augment-preview`, `evaluate --distort`, `bench` and the contest's estimate use it.
public struct Minibatches {
    let set: ImageSet
    let classes: Int
    let seed: UInt64
    /// nil when nothing is selected: the batch is then the images as they are.
    private var augmenter: Augmenter?

    public init(_ set: ImageSet, augment: AugmentConfig = .none, seed: UInt64 = 0) {
        self.set = set
        classes = set.classNames.count
        self.seed = seed
        augmenter = augment.isEmpty ? nil : Augmenter(config: augment, channels: set.channels, height: set.height, width: set.width)
    }

    /// The batch of the images `indices`, augmented as the `step`th batch of epoch `epoch`.
    public mutating func make<Indices: Collection<Int>>(_ indices: Indices, epoch: Int = 0, step: Int = 0) -> (x: Tensor, targets: [Float]) {
        var x = Network.input(set, indices: indices)
        var t = SoftmaxCrossEntropy.oneHot(indices.map { set.labels[$0] }, classes: classes)
        if augmenter != nil {
            let (n, classes, seed) = (indices.count, classes, seed)
            x.data.withUnsafeMutableBufferPointer { xp in
                t.withUnsafeMutableBufferPointer { tp in
                    augmenter?.apply(x: xp, targets: tp, batch: n, classes: classes, seed: seed, epoch: epoch, step: step,
                                     images: Array(indices), split: { Threads.parallelFor($0, minChunk: 64, $1) })
                }
            }
        }
        return (x, t)
    }
}

extension AugmentConfig {
    /// The augmentations of `spec` as a distortion of images (`evaluate --distort`, `distort`):
    /// refused when they change nothing or change labels (mixup).
    public static func distortion(parsing spec: String, for dataset: Dataset) throws -> AugmentConfig {
        let config = try AugmentConfig(parsing: spec, for: dataset)
        guard !config.usesMixup, !config.isEmpty else {
            throw ValidationErrorText("--distort needs augmentations that change images, not labels: \(quote(spec)) has "
                + (config.isEmpty ? "none" : "mixup"))
        }
        return config
    }

    /// The stand-in for new writers that the README's measurements use: MNIST test digits with
    /// their strokes thickened or thinned, rotated, scaled, slanted and moved, then elastically
    /// warped (the table's order), each at full strength: harder than any one alone.
    public static let newWriters = "affine:rotate=15:scale=0.15:shear=0.25:shift=0.1,elastic,stroke:amount=1"
}

extension ImageSet {
    /// The set with `augment`'s image augmentations applied, each image from its own seeded
    /// stream (`Minibatches`): `evaluate --distort`, and a stand-in for unseen writers.
    public func distorted(by augment: AugmentConfig, seed: UInt64) -> ImageSet {
        var batches = Minibatches(self, augment: augment, seed: seed)
        var out = self
        let n = imageSize, batch = 1000
        for (step, start) in stride(from: 0, to: count, by: batch).enumerated() {
            let images = start ..< min(count, start + batch)
            out.pixels.replaceSubrange(start * n ..< images.upperBound * n, with: Network.pixels(batches.make(images, step: step).x.data))
        }
        return out
    }

    /// `count` images of random pixels and labels of `shape` [C, H, W], for speed measurements.
    public static func random(count: Int, shape: [Int], classes: Int, seed: UInt64) -> ImageSet {
        var rng = SeededRNG(seed: seed)
        return ImageSet(count: count, channels: shape[0], height: shape[1], width: shape[2],
                        pixels: (0 ..< count * shape.reduce(1, *)).map { _ in UInt8(rng.int(below: 256)) },
                        labels: (0 ..< count).map { _ in UInt8(rng.int(below: classes)) },
                        classNames: (0 ..< classes).map(String.init))
    }
}
