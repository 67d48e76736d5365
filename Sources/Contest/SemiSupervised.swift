import Augment
import Foundation
import LE4Data
import Net

/// Semi-supervised learning on the images answered (report 000, 3.3.2; pseudo-labelling, Lee
/// 2013): the ensemble answers them; of the images answered as each class, the ones it is surest
/// of join the training images with its answers as their labels; every member is fine-tuned on
/// that mix; the ensemble answers again, and so on for `rounds`. The contest's writers are not
/// the training set's, and this lets the members see their hands before answering.
///
/// It reads the images alone: `learn` drops any labels the set carries before it looks at it.
public struct SemiSupervised: Equatable, Sendable {
    /// Of the images answered as each class, the most confident fraction that is pseudo-labelled
    /// (at most that fraction of an equal share of the images: see `select`).
    public var fraction = 0.9
    /// Fine-tuning epochs per round. An epoch is every pseudo-labelled image and as many training
    /// images (drawn afresh each epoch), so that the members keep the writers they learned from.
    public var epochs = 2
    /// Rounds of answering, choosing and fine-tuning.
    public var rounds = 1
    /// The fine-tuning rate as a fraction of the member's own; it decays to 0 by cosine.
    public var rate = 0.1

    public init() {}

    /// Refuses values that would pseudo-label nothing or train without end, naming the option.
    public func check() throws {
        guard fraction > 0, fraction <= 1 else { throw ValidationErrorText("--pseudo-fraction must be in (0, 1], got \(fraction)") }
        try checkCount(epochs, "pseudo-epochs", 1 ... 100)
        try checkCount(rounds, "pseudo-rounds", 1 ... 10)
        guard rate > 0, rate <= 1 else { throw ValidationErrorText("--pseudo-rate must be in (0, 1], got \(rate)") }
    }

    /// What a run of `learn` did, for the sidecar JSON.
    public struct Outcome {
        /// Pseudo-labelled images of each round.
        public var chosen: [Int]
        /// The members' probabilities [N, classes] for the images after the last round.
        public var probabilities: [[Float]]
    }

    /// The images to pseudo-label with their answers, by index: for each class, of the images whose
    /// mean probability (`probabilities` [N, classes]) is highest for it, the `fraction` with the
    /// highest (at least one), but no more than `fraction` of an equal share N/classes. Per class,
    /// so that a class the members are less sure of keeps its share; capped, because members that
    /// fail on new writers tend to pour them into one class (a weak ensemble answered 3,061 of a
    /// stand-in's 10,000 digits as 1), and those answers would teach the mistake. Ties go to the
    /// lower index; the result is sorted by index.
    public static func select(probabilities p: [Float], classes: Int, fraction: Double) -> [(index: Int, label: Int)] {
        let answers = predictions(p, classes: classes)
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, c) in answers.enumerated() { byClass[c].append(i) }
        var chosen = [(index: Int, label: Int)]()
        let share = Int((Double(answers.count) * fraction / Double(classes)).rounded(.up))
        for (c, images) in byClass.enumerated() where !images.isEmpty {
            let ranked = images.sorted { (p[$0 * classes + c], $1) > (p[$1 * classes + c], $0) }
            let keep = max(1, min(share, Int((Double(images.count) * fraction).rounded(.up))))
            chosen += ranked.prefix(keep).map { (index: $0, label: c) }
        }
        return chosen.sorted { $0.index < $1.index }
    }

    /// Runs the rounds on `ensemble`, whose members were trained with `settings`, for the images
    /// `images`, starting from the members' probabilities `first` for them. The members' networks
    /// are fine-tuned in place; their files stay as trained.
    public func learn(_ ensemble: Ensemble, settings: [TrainSettings], images: ImageSet, first: [[Float]], dataset: Dataset,
                      dataRoot: String?, tta: Bool) throws -> Outcome {
        var unlabelled = images
        unlabelled.labels = []
        let train = try dataset.load(root: dataRoot, train: true)
        var probabilities = first, chosen = [Int]()
        for round in 1 ... rounds {
            let picks = SemiSupervised.select(probabilities: Ensemble.mean(probabilities), classes: dataset.classCount, fraction: fraction)
            var pseudo = unlabelled.subset(picks.map(\.index))
            pseudo.labels = picks.map { UInt8($0.label) }
            let mix = ImageSet.concatenate([train, pseudo])
            print("semi-supervised round \(round)/\(rounds): \(picks.count) of \(images.count) images pseudo-labelled "
                + "(per answered class the most confident \(Int((fraction * 100).rounded())) %, at most \(Int((fraction * 100).rounded())) % "
                + "of an equal share)")
            for (k, (net, s)) in zip(ensemble.networks, settings).enumerated() {
                try fineTune(net, settings: s, mix: mix, pseudo: train.count ..< mix.count, round: round,
                             label: "member \(k + 1)/\(settings.count)")
            }
            chosen.append(picks.count)
            probabilities = ensemble.memberProbabilities(unlabelled, tta: tta, dataset: dataset)
        }
        return Outcome(chosen: chosen, probabilities: probabilities)
    }

    // mix: [training images; pseudo-labelled images], pseudo: the latter's indices in mix.
    /// Fine-tunes `net` in place for `epochs`: each epoch the pseudo-labelled images and as many of
    /// the member's own training images, shuffled together, in the member's batches, augmentations,
    /// optimizer, label smoothing and SAM, at `rate` times its rate decaying to 0 (no Lookahead or
    /// weight average). Seeded by the member's seed and the round.
    func fineTune(_ net: Network, settings s: TrainSettings, mix: ImageSet, pseudo: Range<Int>, round: Int, label: String) throws {
        guard let dataset = Dataset(rawValue: s.dataset) else { throw ValidationErrorText("unknown dataset \(s.dataset)") }
        let trainIdx = TrainingRun.split(count: pseudo.lowerBound, s).train
        var config = try s.optimizerConfig()
        config.learningRate *= Float(rate)
        let trainer = Trainer(net: net, optimizer: config, schedule: .cosine, smoothing: s.smoothing, sam: s.sam)
        // The fine-tuning epochs continue the member's own, so that their augmentations are new draws.
        var batches = Minibatches(mix, augment: try AugmentConfig(parsing: s.augment, for: dataset), seed: s.seed)
        let perEpoch = pseudo.count + min(pseudo.count, trainIdx.count)
        let stepsPerEpoch = (perEpoch + s.batch - 1) / s.batch, start = Date(), progress = Progress(label: label)
        var lossSum = 0.0, seen = 0
        for epoch in 0 ..< epochs {
            var rng = SeededRNG(seed: s.seed, stream: [0x5E31, UInt64(round), UInt64(epoch)])
            var replay = trainIdx
            rng.shuffle(&replay)
            var order = Array(replay.prefix(pseudo.count)) + Array(pseudo)
            rng.shuffle(&order)
            (lossSum, seen) = (0, 0)
            for step in 0 ..< stepsPerEpoch {
                let batch = order[step * s.batch ..< min(order.count, (step + 1) * s.batch)]
                let (x, t) = batches.make(batch, epoch: s.epochs + (round - 1) * epochs + epoch, step: step)
                let lr = trainer.learningRate(totalSteps: stepsPerEpoch * epochs, stepsPerEpoch: stepsPerEpoch)
                let (l, _) = trainer.trainStep(x: x, targets: t, lr: lr)
                guard l.isFinite else {
                    throw ValidationErrorText("semi-supervised fine-tuning of \(label) diverged (loss \(l)); lower --pseudo-rate")
                }
                lossSum += Double(l) * Double(batch.count); seen += batch.count
                let done = epoch * stepsPerEpoch + step + 1, elapsed = Date().timeIntervalSince(start)
                progress.update(String(format: "fine-tuning epoch %d/%d  batch %d/%d  loss %.4f  %.0f img/s  %@ left", epoch + 1, epochs,
                                       step + 1, stepsPerEpoch, lossSum / Double(seen), Double(done * s.batch) / elapsed,
                                       duration(elapsed * Double(stepsPerEpoch * epochs - done) / Double(done))),
                                fraction: Double(done) / Double(stepsPerEpoch * epochs))
            }
        }
        if let bad = net.firstNonFiniteArray { throw ValidationErrorText("semi-supervised fine-tuning of \(label) diverged: array '\(bad)'") }
        progress.finish(String(format: "fine-tuned %d epochs of %d pseudo-labelled and %d training images, loss %.4f, in %@",
                               epochs, pseudo.count, perEpoch - pseudo.count, lossSum / Double(max(1, seen)),
                               duration(Date().timeIntervalSince(start))))
    }
}
