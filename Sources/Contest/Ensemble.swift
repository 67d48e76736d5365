import Foundation
import LE4Data
import Net

/// Models whose softmax outputs are averaged. One model is an ensemble of one.
public struct Ensemble {
    public var paths: [String]
    public var networks: [Network]
    /// The dataset each model's metadata records it was trained on (nil when it records none).
    public var datasets: [Dataset?]

    /// Loads the models, refusing models trained on different datasets: their classes differ
    /// (a Fashion "Trouser" is class 1, as is the digit 1), so their mean would mean nothing.
    public init(paths: [String]) throws {
        guard !paths.isEmpty else { throw ValidationErrorText("give at least one --model") }
        self.paths = paths
        let contents = try paths.map { try ModelFile.load($0) }
        networks = contents.map(\.network)
        datasets = contents.map { TrainRecord.decode(meta: $0.meta).flatMap { Dataset(rawValue: $0.settings.dataset) } }
        if let (p, d) = trainedOn, let (q, e) = zip(paths, datasets).first(where: { $1 != nil && $1 != d }) {
            throw ValidationErrorText("\(p) was trained on \(d) but \(q) on \(e!): the models of an ensemble must share "
                + "one dataset")
        }
    }

    public init(networks: [Network], paths: [String]) {
        self.networks = networks
        self.paths = paths
        datasets = paths.map { _ in nil }
    }

    /// The first model recording its dataset, and that dataset.
    public var trainedOn: (path: String, dataset: Dataset)? {
        zip(paths, datasets).lazy.compactMap { p, d in d.map { (p, $0) } }.first
    }

    /// The dataset to run the models on: the one they were trained on, else `chosen` (--dataset),
    /// else MNIST. A `chosen` dataset other than the models' is refused, naming both.
    public func dataset(chosen: Dataset?) throws -> Dataset {
        guard let (p, d) = trainedOn else { return chosen ?? .mnist }
        if let c = chosen, c != d {
            throw ValidationErrorText("\(p) was trained on \(d), not \(c): drop --dataset \(c) to use \(d), or give models trained on \(c)")
        }
        return d
    }

    /// Refuses data the models were not built for, naming the model and both shapes.
    public func check(fits set: ImageSet, source: String) throws {
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
    public func memberProbabilities(_ set: ImageSet) -> [[Float]] { memberProbabilities([(set, 1)]) }

    /// Each model's probabilities [N, classes] for images of `dataset`, with `tta` the weighted mean
    /// over their ``testTimeViews(of:mirrorable:)``.
    public func memberProbabilities(_ set: ImageSet, tta: Bool, dataset: Dataset) -> [[Float]] {
        tta ? memberProbabilities(testTimeViews(of: set, mirrorable: dataset.mirrorable)) : memberProbabilities(set)
    }

    /// Each model's probabilities [N, classes], averaged over `views` of the same N images with
    /// their weights (``testTimeViews(of:mirrorable:)``).
    public func memberProbabilities(_ views: [(images: ImageSet, weight: Float)]) -> [[Float]] {
        networks.map { net in
            var sum = [Float](repeating: 0, count: views[0].images.count * net.classes)
            for (v, weight) in views { for (i, p) in net.probabilities(v).enumerated() { sum[i] += weight * p } }
            return sum
        }
    }

    /// BN adaptation of every member to the images of `set` (``Network/adaptBatchNorm(to:batch:)``):
    /// their files stay as they are.
    public func adaptBatchNorm(to set: ImageSet) {
        for net in networks { net.adaptBatchNorm(to: set) }
    }

    /// The mean of the members' probabilities.
    public static func mean(_ members: [[Float]]) -> [Float] {
        var m = members[0]
        for other in members.dropFirst() { for i in m.indices { m[i] += other[i] } }
        let k = Float(members.count)
        return m.map { $0 / k }
    }
}
