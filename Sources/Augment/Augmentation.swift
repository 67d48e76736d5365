import LE4Data

/// One data augmentation as `--augment` names it: its name, help, `key=value` parameters with their
/// defaults and allowed values. Which ones exist, their order and their random streams are listed
/// once, in ``AugmentationTable``.
///
/// Each conforms further to ``ImageAugmentation`` (one image at a time) or ``BatchAugmentation``
/// (the whole batch, like mixup).
protocol Augmentation: Equatable, Sendable {
    /// The name in `--augment`, e.g. `crop`.
    static var name: String { get }
    /// What it does, in a few words, for help texts.
    static var summary: String { get }
    /// Its parameters, in the order of the canonical spelling.
    static var parameters: [Parameter<Self>] { get }
    /// Every parameter at its default for images of this shape.
    static func defaults(for g: ImageGeometry) -> Self
    /// Why it cannot be used on images of this shape, or nil (flip: only colour images).
    static func unavailable(for g: ImageGeometry) -> String?
    /// What is wrong with a combination of parameters that are each allowed, or nil
    /// (erasing: `smin` above `smax`).
    func conflict() -> String?
}

extension Augmentation {
    static func unavailable(for g: ImageGeometry) -> String? { nil }
    func conflict() -> String? { nil }

    /// The keys it accepts, in spelling order.
    static var keys: [String] { parameters.map(\.key) }

    /// Canonical spelling with every parameter written out, e.g. `crop:pad=2:mode=zero`.
    var spelling: String {
        ([Self.name] + Self.parameters.map { "\($0.key)=\($0.spell(self))" }).joined(separator: ":")
    }

    /// The augmentation `values` (key → text, keys already known to be accepted) describe for
    /// images of shape `g`; unnamed parameters keep their defaults. Throws ``Rejection`` naming
    /// the first offending parameter in spelling order.
    static func parse(_ values: [String: String], geometry g: ImageGeometry) throws -> any Augmentation {
        if let why = unavailable(for: g) { throw Rejection(why) }
        var a = defaults(for: g)
        for p in parameters {
            guard let text = values[p.key] else { continue }
            if !p.read(text, &a, g) { throw Rejection("\(p.key) must be \(p.rule(g)), got \(quote(text))") }
        }
        if let why = a.conflict() { throw Rejection(why) }
        return a
    }

    /// The defaults' spelling, what it does and what each parameter allows, for the table of
    /// accepted syntax.
    static func syntaxRow(geometry g: ImageGeometry) -> (spelling: String, summary: String, rules: String) {
        let note = unavailable(for: g) == nil ? "" : ", so not for these images"
        return (defaults(for: g).spelling, summary + note,
                parameters.map { "\($0.key) \($0.shortRule(g))" }.joined(separator: "; "))
    }

    /// Whether `other` is the same augmentation with the same parameters.
    func isEqual(to other: any Augmentation) -> Bool { (other as? Self) == self }
}

/// Why a parameter set was refused (wrapped by ``AugmentConfig`` into an ``AugmentError``).
struct Rejection: Error {
    let why: String
    init(_ why: String) { self.why = why }
}

/// An augmentation applied to each image of a batch on its own, from the image's own random stream.
protocol ImageAugmentation: Augmentation {
    /// The random choices for one image (a shift, an angle, whether to flip).
    associatedtype Params
    /// Floats of scratch `apply` needs for images of this shape (0 when it works in place).
    func scratchCount(_ g: ImageGeometry) -> Int
    /// Draws this image's choices.
    func draw(_ rng: inout SeededRNG, geometry g: ImageGeometry) -> Params
    /// Draws this image's choices in epoch `epoch`: `lasting` is the image's own stream, the same
    /// in every epoch, for choices that follow an image from epoch to epoch (alternating flip).
    /// The default ignores both and calls `draw(_:geometry:)`.
    func draw(_ rng: inout SeededRNG, lasting: inout SeededRNG, epoch: Int, geometry g: ImageGeometry) -> Params
    /// Applies them to `image: [C, H, W]` in place. `rng` is the same stream after `draw`, for
    /// per-pixel randomness (erasing's fill, elastic's displacement field); `scratch` holds at
    /// least `scratchCount(g)` floats of no particular content.
    func apply(_ p: Params, to image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG,
               scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry)
}

extension ImageAugmentation {
    func scratchCount(_ g: ImageGeometry) -> Int { 0 }

    func draw(_ rng: inout SeededRNG, lasting: inout SeededRNG, epoch: Int, geometry g: ImageGeometry) -> Params {
        draw(&rng, geometry: g)
    }

    /// Draws and applies in one go (through an existential: the table's entries are of any type).
    func augment(_ image: UnsafeMutableBufferPointer<Float>, rng: inout SeededRNG, lasting: inout SeededRNG,
                 epoch: Int, scratch: UnsafeMutableBufferPointer<Float>, geometry g: ImageGeometry) {
        apply(draw(&rng, lasting: &lasting, epoch: epoch, geometry: g), to: image, rng: &rng, scratch: scratch,
              geometry: g)
    }
}

/// An augmentation of the whole batch at once (mixup pairs images); these come after all
/// per-image ones.
protocol BatchAugmentation: Augmentation {
    /// Applies it in place to the first `batch` images of `x: [B, C, H, W]` and rows of
    /// `targets: [B, classes]` (`classes` may be 0: images only). `stream(i)` is image i's random
    /// stream for this augmentation, `stream(Augmenter.batchStream)` the batch's own.
    func apply(x: UnsafeMutableBufferPointer<Float>, targets: UnsafeMutableBufferPointer<Float>,
               batch: Int, classes: Int, geometry g: ImageGeometry, scratch: inout BatchScratch,
               stream: (UInt64) -> SeededRNG)
}

/// Buffers a batch augmentation keeps between batches, grown on demand and never shrunk.
struct BatchScratch: Sendable {
    /// A copy of the images before they are changed.
    var images: [Float] = []
    /// A copy of the targets before they are changed.
    var targets: [Float] = []
    /// A permutation of the batch.
    var order: [Int] = []

    /// Makes room for `batch` images of `n` floats with `classes` targets each.
    mutating func reserve(batch: Int, n: Int, classes: Int) {
        if images.count < batch * n { images = [Float](repeating: 0, count: batch * n) }
        if targets.count < batch * classes { targets = [Float](repeating: 0, count: batch * classes) }
        if order.count < batch { order = [Int](repeating: 0, count: batch) }
    }
}
