import LE4Data

/// Applies an ``AugmentConfig`` to minibatches in place.
///
/// The batch is `x: [B, C, H, W]` (contiguous Float, values in [0, 1]) with soft targets
/// `[B, classes]` whose rows sum to 1. The per-image augmentations run first, image by image,
/// then the per-batch ones (mixup), all in ``AugmentationTable`` order. The per-image ones may
/// run on several threads at once (`apply`'s `split`); one `Augmenter` serves one caller.
public struct Augmenter: Sendable {
    /// What is applied.
    public let config: AugmentConfig
    let geometry: ImageGeometry

    /// Stands in for the image index in the per-batch stream (mixup's permutation).
    static let batchStream = UInt64.max

    private let imageSteps: [(augmentation: any ImageAugmentation, stream: UInt64)]
    private let batchSteps: [(augmentation: any BatchAugmentation, stream: UInt64)]
    private let imageScratchCount: Int      // floats the per-image augmentations need, the most of them
    private var batchScratch = BatchScratch()
    private var streamKey: [UInt64] = [0, 0, 0, 0]

    /// An augmenter for images of `channels`×`height`×`width`; `config` must have been parsed
    /// for that geometry.
    public init(config: AugmentConfig, channels: Int, height: Int, width: Int) {
        let g = ImageGeometry(channels: channels, height: height, width: width, mirrorable: config.mirrorable)
        // Allowed parameters depend on the images (a crop pad below the side, flip on mirrorable ones).
        precondition(config.geometry == nil || config.geometry == g, "augmentations parsed for other images")
        self.config = config
        self.geometry = g
        imageSteps = config.steps.compactMap { s in
            (s.augmentation as? any ImageAugmentation).map { ($0, s.entry.stream) }
        }
        batchSteps = config.steps.compactMap { s in
            (s.augmentation as? any BatchAugmentation).map { ($0, s.entry.stream) }
        }
        imageScratchCount = imageSteps.map { $0.augmentation.scratchCount(g) }.max() ?? 0
    }

    /// The random stream of image `image` (or `batchStream`) for the augmentation with stream index `k`.
    static func rng(seed: UInt64, epoch: Int, step: Int, image: UInt64, _ k: UInt64,
                    key: inout [UInt64]) -> SeededRNG {
        key[0] = UInt64(truncatingIfNeeded: epoch)
        key[1] = UInt64(truncatingIfNeeded: step)
        key[2] = image
        key[3] = k
        return SeededRNG(seed: seed, stream: key)
    }

    /// Applies the configured set in place to the first `batch` images of `x` and rows of `targets`.
    /// Randomness: image i of (epoch, step) uses `SeededRNG(seed: seed, stream: [epoch, step, i, k])`
    /// for the augmentation with stream index k (``AugmentationTable``: crop 0, flip 1, erasing 2,
    /// cutout 3, mixup's λ 4, affine 5, elastic 6, stroke 7), and mixup's permutation the per-batch
    /// stream `[epoch, step, UInt64.max, 4]`, so results depend only on (seed, epoch, step, i) and,
    /// for mixup, the batch — never on threads or call order. Choices that follow an image across
    /// epochs (alternating flip) come from its lasting stream `[UInt64.max, UInt64.max, images[i], k]`
    /// (epoch and step −1), where `images` holds each image's index in the training set (empty: its
    /// batch position i).
    ///
    /// `split(n, body)` runs `body` over ranges that together cover the images 0..<n, in any order
    /// and on any threads (`Threads.parallelFor`); the default runs them all on this thread.
    /// Since every image draws from its own streams, the result does not depend on the split.
    public mutating func apply(x: UnsafeMutableBufferPointer<Float>, targets: UnsafeMutableBufferPointer<Float>,
                               batch: Int, classes: Int, seed: UInt64, epoch: Int, step: Int, images: [Int] = [],
                               split: Split = { n, body in body(0 ..< n) }) {
        let g = geometry, n = g.count
        precondition(batch >= 0 && classes >= 0 && x.count >= batch * n && targets.count >= batch * classes,
                     "batch buffers too small")
        precondition(images.isEmpty || images.count == batch, "one training-set index per image")
        guard batch > 0 else { return }
        if !imageSteps.isEmpty {
            let (steps, scratchCount) = (imageSteps, imageScratchCount)
            split(batch) { range in
                Self.perImage(steps, g, x: x, range, images: images, seed: seed, epoch: epoch, step: step,
                              scratchCount: scratchCount)
            }
        }
        for s in batchSteps {
            Self.perBatch(s.augmentation, stream: s.stream, g, x: x, targets: targets, batch: batch, classes: classes,
                          seed: seed, epoch: epoch, step: step, scratch: &batchScratch, key: &streamKey)
        }
    }

    /// Runs `body(n, range)` for ranges that cover 0..<n: see `apply`.
    public typealias Split = (_ n: Int, _ body: (Range<Int>) -> Void) -> Void

    /// The per-image augmentations of images `range`, with scratch and stream keys of their own.
    private static func perImage(_ steps: [(augmentation: any ImageAugmentation, stream: UInt64)], _ g: ImageGeometry,
                                 x: UnsafeMutableBufferPointer<Float>, _ range: Range<Int>, images: [Int], seed: UInt64,
                                 epoch: Int, step: Int, scratchCount: Int) {
        let n = g.count
        var key: [UInt64] = [0, 0, 0, 0]
        var scratch = [Float](repeating: 0, count: scratchCount)
        scratch.withUnsafeMutableBufferPointer { scratch in
            for i in range {
                let image = UnsafeMutableBufferPointer(rebasing: x[(i * n)..<((i + 1) * n)])
                let identity = UInt64(truncatingIfNeeded: images.isEmpty ? i : images[i])
                for s in steps {
                    var r = rng(seed: seed, epoch: epoch, step: step, image: UInt64(i), s.stream, key: &key)
                    var lasting = rng(seed: seed, epoch: -1, step: -1, image: identity, s.stream, key: &key)
                    s.augmentation.augment(image, rng: &r, lasting: &lasting, epoch: epoch, scratch: scratch, geometry: g)
                }
            }
        }
    }

    private static func perBatch(_ a: any BatchAugmentation, stream k: UInt64, _ g: ImageGeometry,
                                 x: UnsafeMutableBufferPointer<Float>, targets: UnsafeMutableBufferPointer<Float>,
                                 batch: Int, classes: Int, seed: UInt64, epoch: Int, step: Int,
                                 scratch: inout BatchScratch, key: inout [UInt64]) {
        a.apply(x: x, targets: targets, batch: batch, classes: classes, geometry: g, scratch: &scratch) { image in
            rng(seed: seed, epoch: epoch, step: step, image: image, k, key: &key)
        }
    }
}
