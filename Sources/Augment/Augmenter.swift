import LE4Data

/// Applies an ``AugmentConfig`` to minibatches in place.
///
/// The batch is `x: [B, C, H, W]` (contiguous Float, values in [0, 1]) with soft targets
/// `[B, classes]` whose rows sum to 1. Order: crop, flip, erasing, cutout (per image), then mixup.
/// Scratch buffers live here and are reused, so one `Augmenter` serves one thread.
public struct Augmenter: Sendable {
    /// What is applied.
    public let config: AugmentConfig
    let geometry: ImageGeometry

    /// Index k of each augmentation in the random stream `[epoch, step, i, k]`.
    enum StreamIndex: UInt64 { case crop = 0, flip, erasing, cutout, mixup }
    /// Stands in for the image index in the per-batch stream (mixup's permutation).
    static let batchStream = UInt64.max

    private var imageScratch: [Float]     // one image, for crop
    private var batchScratch: [Float] = [] // the original images, for mixup
    private var targetScratch: [Float] = [] // the original targets, for mixup
    private var permutation: [Int] = []
    private var streamKey: [UInt64] = [0, 0, 0, 0]

    /// An augmenter for images of `channels`×`height`×`width`; `config` must have been parsed
    /// for that geometry.
    public init(config: AugmentConfig, channels: Int, height: Int, width: Int) {
        let g = ImageGeometry(channels: channels, height: height, width: width)
        precondition(config.crop.map { $0.pad < min(height, width) } ?? true, "crop pad too large for the images")
        precondition(config.flip == nil || channels == 3, "flip is for colour images")
        self.config = config
        self.geometry = g
        imageScratch = [Float](repeating: 0, count: config.crop == nil ? 0 : g.count)
    }

    /// The random stream of image `image` (or `batchStream`) for augmentation `k`.
    static func rng(seed: UInt64, epoch: Int, step: Int, image: UInt64, _ k: StreamIndex,
                    key: inout [UInt64]) -> SeededRNG {
        key[0] = UInt64(truncatingIfNeeded: epoch)
        key[1] = UInt64(truncatingIfNeeded: step)
        key[2] = image
        key[3] = k.rawValue
        return SeededRNG(seed: seed, stream: key)
    }

    /// Applies the configured set in place to the first `batch` images of `x` and rows of `targets`.
    /// Randomness: image i of (epoch, step) uses `SeededRNG(seed: seed, stream: [epoch, step, i, k])`
    /// for augmentation k (crop 0, flip 1, erasing 2, cutout 3, mixup's λ 4), and mixup's permutation
    /// the per-batch stream `[epoch, step, UInt64.max, 4]`, so results depend only on
    /// (seed, epoch, step, i) and, for mixup, the batch — never on threads or call order.
    public mutating func apply(x: UnsafeMutableBufferPointer<Float>, targets: UnsafeMutableBufferPointer<Float>,
                               batch: Int, classes: Int, seed: UInt64, epoch: Int, step: Int) {
        let n = geometry.count
        precondition(batch >= 0 && classes >= 0 && x.count >= batch * n && targets.count >= batch * classes,
                     "batch buffers too small")
        guard batch > 0 else { return }
        Self.perImage(config, geometry, x: x, batch: batch, seed: seed, epoch: epoch, step: step,
                      scratch: &imageScratch, key: &streamKey)
        if let mixup = config.mixup {
            if batchScratch.count < batch * n { batchScratch = [Float](repeating: 0, count: batch * n) }
            if targetScratch.count < batch * classes { targetScratch = [Float](repeating: 0, count: batch * classes) }
            if permutation.count < batch { permutation = [Int](repeating: 0, count: batch) }
            Self.mix(mixup, x: x, targets: targets, batch: batch, n: n, classes: classes,
                     seed: seed, epoch: epoch, step: step,
                     images: &batchScratch, labels: &targetScratch, perm: &permutation, key: &streamKey)
        }
    }

    private static func perImage(_ config: AugmentConfig, _ g: ImageGeometry, x: UnsafeMutableBufferPointer<Float>,
                                 batch: Int, seed: UInt64, epoch: Int, step: Int,
                                 scratch: inout [Float], key: inout [UInt64]) {
        guard config.crop != nil || config.flip != nil || config.erasing != nil || config.cutout != nil else { return }
        let n = g.count
        scratch.withUnsafeMutableBufferPointer { scratch in
            for i in 0..<batch {
                let image = UnsafeMutableBufferPointer(rebasing: x[(i * n)..<((i + 1) * n)])
                let id = UInt64(i)
                if let crop = config.crop {
                    var r = rng(seed: seed, epoch: epoch, step: step, image: id, .crop, key: &key)
                    crop.apply(crop.draw(&r), to: image, scratch: scratch, geometry: g)
                }
                if let flip = config.flip {
                    var r = rng(seed: seed, epoch: epoch, step: step, image: id, .flip, key: &key)
                    flip.apply(flip.draw(&r), to: image, geometry: g)
                }
                if let erasing = config.erasing {
                    var r = rng(seed: seed, epoch: epoch, step: step, image: id, .erasing, key: &key)
                    let p = erasing.draw(&r, geometry: g)
                    erasing.apply(p, to: image, rng: &r, geometry: g)
                }
                if let cutout = config.cutout {
                    var r = rng(seed: seed, epoch: epoch, step: step, image: id, .cutout, key: &key)
                    cutout.apply(cutout.draw(&r, geometry: g), to: image, geometry: g)
                }
            }
        }
    }

    private static func mix(_ mixup: Mixup, x: UnsafeMutableBufferPointer<Float>,
                            targets: UnsafeMutableBufferPointer<Float>, batch: Int, n: Int, classes: Int,
                            seed: UInt64, epoch: Int, step: Int,
                            images: inout [Float], labels: inout [Float], perm: inout [Int], key: inout [UInt64]) {
        images.withUnsafeMutableBufferPointer { images in
            labels.withUnsafeMutableBufferPointer { labels in
                perm.withUnsafeMutableBufferPointer { perm in
                    let x0 = x.baseAddress!, i0 = images.baseAddress!
                    i0.update(from: x0, count: batch * n)
                    // Targets may be absent (classes == 0); then only the images are mixed.
                    let t0 = classes > 0 ? targets.baseAddress : nil, l0 = classes > 0 ? labels.baseAddress : nil
                    if let t0, let l0 { l0.update(from: t0, count: batch * classes) }
                    let order = UnsafeMutableBufferPointer(rebasing: perm[0..<batch])
                    var r = rng(seed: seed, epoch: epoch, step: step, image: batchStream, .mixup, key: &key)
                    Mixup.drawPermutation(into: order, rng: &r)
                    for i in 0..<batch {
                        var ri = rng(seed: seed, epoch: epoch, step: step, image: UInt64(i), .mixup, key: &key)
                        let lambda = mixup.drawLambda(&ri), j = order[i]
                        Mixup.mix(lambda, i0 + i * n, i0 + j * n, into: x0 + i * n, count: n)
                        if let t0, let l0 {
                            Mixup.mix(lambda, l0 + i * classes, l0 + j * classes, into: t0 + i * classes, count: classes)
                        }
                    }
                }
            }
        }
    }
}
