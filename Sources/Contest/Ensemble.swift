import Foundation
import LE4Data
import Net

/// Models whose softmax outputs are averaged. One model is an ensemble of one.
struct Ensemble {
    var paths: [String]
    var networks: [Network]
    /// The dataset each model's metadata records it was trained on (nil when it records none).
    var datasets: [Dataset?]

    /// Loads the models, refusing models trained on different datasets: their classes differ
    /// (a Fashion "Trouser" is class 1, as is the digit 1), so their mean would mean nothing.
    init(paths: [String]) throws {
        guard !paths.isEmpty else { throw ValidationErrorText("give at least one --model") }
        self.paths = paths
        let contents = try paths.map { try ModelFile.load($0) }
        networks = contents.map(\.network)
        datasets = contents.map { recordedDataset(meta: $0.meta) }
        if let (p, d) = trainedOn, let (q, e) = zip(paths, datasets).first(where: { $1 != nil && $1 != d }) {
            throw ValidationErrorText("\(p) was trained on \(d) but \(q) on \(e!): the models of an ensemble must share "
                + "one dataset")
        }
    }

    init(networks: [Network], paths: [String]) {
        self.networks = networks
        self.paths = paths
        datasets = paths.map { _ in nil }
    }

    /// The first model recording its dataset, and that dataset.
    var trainedOn: (path: String, dataset: Dataset)? {
        zip(paths, datasets).lazy.compactMap { p, d in d.map { (p, $0) } }.first
    }

    /// The dataset to run the models on: the one they were trained on, else `chosen` (--dataset),
    /// else MNIST. A `chosen` dataset other than the models' is refused, naming both.
    func dataset(chosen: Dataset?) throws -> Dataset {
        guard let (p, d) = trainedOn else { return chosen ?? .mnist }
        if let c = chosen, c != d {
            throw ValidationErrorText("\(p) was trained on \(d), not \(c): drop --dataset \(c) to use \(d), or give models trained on \(c)")
        }
        return d
    }

    /// Refuses data the models were not built for, naming the model and both shapes.
    func check(fits set: ImageSet, source: String) throws {
        for (p, n) in zip(paths, networks) {
            let shape = [set.channels, set.height, set.width]
            guard n.inputShape == shape else {
                throw ValidationErrorText("\(p) expects images of \(shapeText(n.inputShape)), "
                    + "\(source) has \(shapeText(shape))")
            }
            if !set.classNames.isEmpty, n.classes != set.classNames.count {
                throw ValidationErrorText("\(p) has \(n.classes) classes, \(source) has \(set.classNames.count)")
            }
        }
    }

    /// Each model's probabilities [N, classes].
    func memberProbabilities(_ set: ImageSet) -> [[Float]] { memberProbabilities([(set, 1)]) }

    /// Each model's probabilities [N, classes] for images of `dataset`, with `tta` the weighted mean
    /// over their ``testTimeViews(of:mirrorable:)``.
    func memberProbabilities(_ set: ImageSet, tta: Bool, dataset: Dataset) -> [[Float]] {
        tta ? memberProbabilities(testTimeViews(of: set, mirrorable: dataset.mirrorable)) : memberProbabilities(set)
    }

    /// Each model's probabilities [N, classes], averaged over `views` of the same N images with
    /// their weights (``testTimeViews(of:mirrorable:)``).
    func memberProbabilities(_ views: [(images: ImageSet, weight: Float)]) -> [[Float]] {
        networks.map { net in
            var sum = [Float](repeating: 0, count: views[0].images.count * net.classes)
            for (v, weight) in views { for (i, p) in net.probabilities(v).enumerated() { sum[i] += weight * p } }
            return sum
        }
    }

    /// BN adaptation of every member to the images of `set` (``Network/adaptBatchNorm(to:batch:)``):
    /// their files stay as they are.
    func adaptBatchNorm(to set: ImageSet) {
        for net in networks { net.adaptBatchNorm(to: set) }
    }

    /// The mean of the members' probabilities.
    static func mean(_ members: [[Float]]) -> [Float] {
        var m = members[0]
        for other in members.dropFirst() { for i in m.indices { m[i] += other[i] } }
        let k = Float(members.count)
        return m.map { $0 / k }
    }
}

/// The dataset a model file's `meta` records (`settings.dataset`, as `train` and `contest` write
/// it); nil for a model without that record or naming an unknown dataset.
func recordedDataset(meta: String) -> Dataset? {
    struct Record: Decodable {
        struct Settings: Decodable { var dataset: String }
        var settings: Settings
    }
    return (try? JSONDecoder().decode(Record.self, from: Foundation.Data(meta.utf8))).flatMap { Dataset(rawValue: $0.settings.dataset) }
}

/// The views test-time augmentation averages, with weights summing to 1. Images that may be
/// mirrored (objects, garments) get airbench's six (Jordan 2024): the image and its mirror, 1/4
/// each, and both moved one pixel up-left and one down-right with reflected borders, 1/8 each.
/// Digits get the image and its one-pixel shifts in the four directions, 1/5 each.
func testTimeViews(of set: ImageSet, mirrorable: Bool) -> [(images: ImageSet, weight: Float)] {
    guard mirrorable else {
        return [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)].map { (shifted(set, dx: $0.0, dy: $0.1), 0.2) }
    }
    let mirror = mirrored(set)
    var views: [(images: ImageSet, weight: Float)] = [(set, 0.25), (mirror, 0.25)]
    for d in [-1, 1] {
        views += [(shifted(set, dx: d, dy: d, reflect: true), 0.125), (shifted(mirror, dx: d, dy: d, reflect: true), 0.125)]
    }
    return views
}

/// The set with every image moved by (dx, dy) pixels (|dx|, |dy| below the side); the uncovered
/// border is zero, or with `reflect` the image mirrored about its edge pixel.
func shifted(_ set: ImageSet, dx: Int, dy: Int, reflect: Bool = false) -> ImageSet {
    if dx == 0 && dy == 0 { return set }
    var out = set
    let (H, W) = (set.height, set.width)
    func source(_ i: Int, _ n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        return reflect ? (i < 0 ? -i : 2 * (n - 1) - i) : nil
    }
    out.pixels.withUnsafeMutableBufferPointer { o in
        set.pixels.withUnsafeBufferPointer { s in
            for plane in 0 ..< set.count * set.channels {
                let base = plane * H * W
                for y in 0 ..< H {
                    for x in 0 ..< W {
                        if let sy = source(y - dy, H), let sx = source(x - dx, W) {
                            o[base + y * W + x] = s[base + sy * W + sx]
                        } else {
                            o[base + y * W + x] = 0
                        }
                    }
                }
            }
        }
    }
    return out
}

/// The set with every image mirrored left to right.
func mirrored(_ set: ImageSet) -> ImageSet {
    var out = set
    let W = set.width
    out.pixels.withUnsafeMutableBufferPointer { o in
        set.pixels.withUnsafeBufferPointer { s in
            for row in stride(from: 0, to: s.count, by: W) {
                for x in 0 ..< W { o[row + x] = s[row + W - 1 - x] }
            }
        }
    }
    return out
}

/// Reads images to answer: a contest dump (pickle; `isContestDump`) or an IDX images file.
func readImagesToAnswer(_ path: String) throws -> (images: ImageSet, isContestDump: Bool) {
    let head = try FileIO.readMaybeGzip(path, limit: 1 << 31).prefix(4)
    if head.first == 0x80 || head.first == 0x63 {  // pickle: PROTO, or GLOBAL at protocol 0/1
        return (try ContestDump.read(path), true)
    }
    let im = try IDX.readImages(path)
    return (ImageSet(count: im.count, channels: 1, height: im.height, width: im.width, pixels: im.pixels, labels: [],
                     classNames: []), false)
}

/// Writes one predicted class per line, nothing else, in input order (atomically, under `policy`).
func writeAnswers(_ predicted: [Int], to path: String, policy: OutputPolicy) throws {
    try FileIO.writeAtomically(predicted.map { "\($0)\n" }.joined(), to: path, as: .answers, policy: policy)
}
