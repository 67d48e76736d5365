import XCTest
@testable import Augment
import LE4Data

/// Synthetic images and targets for the augmentation tests.
enum Synthetic {
    /// A gradient with every value distinct, strictly inside (0, 1): value k of the image is (k+1)/(count+1).
    static func gradient(_ g: ImageGeometry) -> [Float] {
        (0..<g.count).map { Float($0 + 1) / Float(g.count + 1) }
    }

    /// Uniform random values in [0, 1).
    static func random(count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRNG(seed: seed)
        return (0..<count).map { _ in rng.nextFloat() }
    }

    /// One-hot targets, image i of class `i % classes`.
    static func oneHot(batch: Int, classes: Int) -> [Float] {
        var t = [Float](repeating: 0, count: batch * classes)
        for i in 0..<batch { t[i * classes + i % classes] = 1 }
        return t
    }

    /// Label-smoothed targets (ε = 0.1), image i of class `(3 i + 1) % classes`.
    static func smoothed(batch: Int, classes: Int) -> [Float] {
        var t = [Float](repeating: 0.1 / Float(classes), count: batch * classes)
        for i in 0..<batch { t[i * classes + (3 * i + 1) % classes] += 0.9 }
        return t
    }
}

extension ImageGeometry {
    /// Index of pixel (c, y, x).
    func index(_ c: Int, _ y: Int, _ x: Int) -> Int { (c * height + y) * width + x }
}

/// Runs `body` on mutable buffers over `a` and `b`.
func withBuffers<R>(_ a: inout [Float], _ b: inout [Float],
                    _ body: (UnsafeMutableBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> R) -> R {
    a.withUnsafeMutableBufferPointer { pa in b.withUnsafeMutableBufferPointer { pb in body(pa, pb) } }
}

/// Applies `augmenter` to copies of `x` and `targets` and returns the results.
func augmented(_ augmenter: inout Augmenter, x: [Float], targets: [Float], batch: Int, classes: Int,
               seed: UInt64, epoch: Int = 0, step: Int = 0, images: [Int] = [],
               split: Augmenter.Split = { n, body in body(0 ..< n) }) -> (x: [Float], targets: [Float]) {
    var x = x, t = targets
    withBuffers(&x, &t) { px, pt in
        augmenter.apply(x: px, targets: pt, batch: batch, classes: classes, seed: seed, epoch: epoch, step: step,
                        images: images, split: split)
    }
    return (x, t)
}

/// The per-image stream the augmenter documents: `[epoch, step, i, k]`, k the table's stream index of `type`.
func stream(seed: UInt64, epoch: Int = 0, step: Int = 0, image: Int, _ type: any Augmentation.Type) -> SeededRNG {
    guard let k = AugmentationTable.entries.first(where: { $0.type == type })?.stream else {
        preconditionFailure("\(type) is not in the table")
    }
    return SeededRNG(seed: seed, stream: [UInt64(epoch), UInt64(step), UInt64(image), k])
}

extension ImageAugmentation {
    /// `apply` with its own scratch (NaN-filled: the result must not depend on its content).
    func apply(_ p: Params, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG, geometry g: ImageGeometry) {
        var scratch = [Float](repeating: .nan, count: scratchCount(g))
        scratch.withUnsafeMutableBufferPointer { apply(p, to: image, rng: &rng, scratch: $0, geometry: g) }
    }

    /// `apply` with its own scratch, for augmentations that draw nothing after `draw`.
    func apply(_ p: Params, to image: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        var unused = SeededRNG(seed: 0)
        apply(p, to: image, rng: &unused, geometry: g)
    }
}

func assertInUnitInterval(_ v: [Float], file: StaticString = #filePath, line: UInt = #line) {
    for (k, e) in v.enumerated() where !(e >= 0 && e <= 1) {
        XCTFail("value \(e) at \(k) outside [0, 1]", file: file, line: line)
        return
    }
}
