import ArgumentParser
import Contest
import Augment
import LE4Data
import Net

/// `le4nn evaluate`: accuracy, per-class accuracy and the confusion matrix.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accuracy, per-class accuracy and confusion matrix of one model or an ensemble.",
        discussion: """
        Several --model options form an ensemble (the mean of their softmax outputs); each \
        member's accuracy is shown too. --tta adds test-time augmentation, reported \
        separately: digits are averaged over one-pixel shifts in four directions, colour images \
        over themselves and their mirror, each also moved a pixel up-left and down-right; \
        Fashion-MNIST's garments likewise. The models are run on the dataset they were trained on, which \
        their files record; --dataset is needed only for models that do not. --distort runs \
        the models on images changed by augmentations first (seeded, the same images for every \
        model): the accuracy under other pens and other hands, e.g. strokes up to a pixel \
        thicker or thinner, or rotated and slanted digits. --adapt-bn then reports the same again \
        with each model's batch-norm statistics re-estimated on the evaluated images (BN \
        adaptation: no labels used, no file changed), as `contest --adapt-bn` answers.

          le4nn evaluate --data ../shared/data --model runs/a.npz \\
              --model runs/b.npz --tta
          le4nn evaluate --data ../shared/data --model runs/a.npz --distort stroke:amount=1
          le4nn evaluate --data ../shared/data --model runs/a.npz --distort affine:rotate=20
          le4nn evaluate --data ../shared/data --model runs/a.npz --distort affine:rotate=20 --adapt-bn
        """)

    @OptionGroup var data: DataOptions
    @Option(name: .customLong("model"), help: "Model file (.npz); repeat for an ensemble.") var models: [String] = []
    @Option(help: "Which split: train or test.") var split: Split = .test
    @Flag(help: "Also evaluate with test-time augmentation.") var tta = false
    @Flag(help: "Also evaluate with each model's batch-norm statistics re-estimated on the evaluated images (BN adaptation).")
    var adaptBn = false
    @Option(help: "Distort the images first: augmentations as for train --augment (mixup excepted), e.g. stroke:amount=1.")
    var distort: String?
    @Option(parsing: .unconditional, help: "Seed of the distortions.") var seed: UInt64 = 1

    func run() throws {
        let ensemble = try Ensemble(paths: models)
        let dataset = try ensemble.dataset(chosen: data.chosenDataset)
        let set = try distorted(try dataset.load(root: data.root, train: split == .train), dataset)
        try ensemble.check(fits: set, source: "\(dataset) \(split)")
        report(ensemble, set, dataset, tta: false)
        if tta { report(ensemble, set, dataset, tta: true) }
        guard adaptBn else { return }
        ensemble.adaptBatchNorm(to: set)
        report(ensemble, set, dataset, tta: false, adapted: true)
        if tta { report(ensemble, set, dataset, tta: true, adapted: true) }
    }

    /// `set` with --distort applied (itself without it), each image from its own seeded stream.
    func distorted(_ set: ImageSet, _ dataset: Dataset) throws -> ImageSet {
        guard let spec = distort else { return set }
        let config = try AugmentConfig.distortion(parsing: spec, for: dataset)
        let out = set.distorted(by: config, seed: seed)
        print("images distorted by \(config) (seed \(seed))")
        return out
    }

    func report(_ e: Ensemble, _ set: ImageSet, _ dataset: Dataset, tta: Bool, adapted: Bool = false) {
        let tag = (distort == nil ? "" : " distorted") + (tta ? " with TTA" : "") + (adapted ? " with BN adapted" : "")
        let members = e.memberProbabilities(set, tta: tta, dataset: dataset)
        let C = set.classNames.count
        if members.count > 1 {
            for (p, probs) in zip(e.paths, members) {
                print(String(format: "member %@%@: %.2f%%", p, tag, 100 * accuracy(predictions(probs, classes: C), set.labels)))
            }
        }
        let predicted = predictions(Ensemble.mean(members), classes: C)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: C), count: C)
        for (p, t) in zip(predicted, set.labels) { confusion[Int(t)][p] += 1 }
        let what = members.count > 1 ? "ensemble of \(members.count)" : e.paths[0]
        print(String(format: "%@ on %@ %@%@: accuracy %.2f%% (%d/%d)", what, dataset.rawValue, split.rawValue, tag,
                     100 * accuracy(predicted, set.labels), zip(predicted, set.labels).filter { $0 == Int($1) }.count, set.count))
        print("per class: " + (0 ..< C).map { c in
            String(format: "%@ %.1f%%", set.classNames[c], 100 * Double(confusion[c][c]) / Double(max(1, confusion[c].reduce(0, +))))
        }.joined(separator: ", "))
        print("confusion matrix (rows: true class, columns: predicted):")
        print("      " + (0 ..< C).map { String(format: "%5d", $0) }.joined())
        for c in 0 ..< C { print(String(format: "%5d ", c) + confusion[c].map { String(format: "%5d", $0) }.joined()) }
    }
}
