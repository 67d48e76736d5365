import Augment
import Foundation
import LE4Data
import Net

/// Everything that decides what a training run produces. Two runs with equal settings (and the
/// same thread count) train the same model, which is how `contest` recognises finished members.
struct TrainSettings: Codable, Equatable {
    var dataset: String
    var net: String
    var optimizer: String
    var learningRate: Float
    var beta1: Float
    var beta2: Float
    var epsilon: Float
    var weightDecay: Float
    var l1: Float
    var schedule: String
    var epochs: Int
    var batch: Int
    var augment: String
    var smoothing: Float
    var validation: Int
    var initializer: String
    var seed: UInt64
    /// Train on only the first N images of the training split (quick trials, tests).
    var trainLimit: Int?
    /// Decay of the weight average that is validated and saved instead of the trained weights
    /// (`WeightAverage`); nil: none. Absent from the JSON when nil, so settings written before it
    /// existed decode, and contest members keep their names.
    var ema: Float?
    /// Learning rate of BN biases relative to the rest (`OptimizerConfig.bnBiasScale`); nil: 1.
    var bnBiasScale: Float?
    /// Whether BN biases take the weight decay (`OptimizerConfig.bnBiasDecay`); nil: no.
    var bnBiasDecay: Bool?
    /// Whether the run trains with Lookahead (`Lookahead`); nil: no.
    var lookahead: Bool?
}

/// A run as the command line describes it, checked: the settings its model file records, the
/// augmentations parsed from `settings.augment` and the network `settings.net` builds, freshly
/// initialised with the run's seed.
struct TrainSetup {
    var settings: TrainSettings
    var augmentation: AugmentConfig
    var network: Network
}

/// What a finished (or interrupted) run records in its model file's `meta`.
struct TrainRecord: Codable {
    var settings: TrainSettings
    var epochsDone: Int
    var bestEpoch: Int
    var bestValidationAccuracy: Double?
    var history: [EpochStats]
    var seconds: Double
    var threads: Int

    /// Every planned epoch is done: nothing is left to resume.
    var isFinished: Bool { epochsDone >= settings.epochs }

    /// The record in a model file's `meta`; nil when the file does not exist or records no run.
    static func read(_ path: String) throws -> TrainRecord? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let meta = try ModelFile.load(path).meta
        return try? JSONDecoder().decode(TrainRecord.self, from: Foundation.Data(meta.utf8))
    }
}

struct EpochStats: Codable {
    var epoch: Int
    var loss: Double
    var trainAccuracy: Double
    /// Cross-entropy of the held-out images, without label smoothing (nil: no validation, or a
    /// record written before it was kept).
    var validationLoss: Double?
    var validationAccuracy: Double?
    var learningRate: Double
    var imagesPerSecond: Double
    var seconds: Double
}

/// Trains one model: the epoch loop around `Trainer`, with progress, validation, the best
/// epoch, checkpoints, history CSV and plot.
struct TrainingRun {
    var settings: TrainSettings
    /// `settings.augment`, parsed.
    var augmentation: AugmentConfig
    /// The network a fresh run starts from (a resumed run continues its checkpoint's instead).
    /// Training changes it in place: one `run()` per setup.
    var network: Network
    var dataRoot: String?
    var out: String
    var resume: Bool = false
    /// Prefix for progress lines (an ensemble member's name).
    var label: String = ""
    /// Stop after this many epochs in total, as if interrupted (continue with `resume`).
    var stopAfter: Int?
    /// Keep the checkpoint of a finished run (by default it is removed: the model file's record
    /// says the run is finished, so there is nothing left to resume).
    var keepCheckpoint = false
    /// Training images of the runs that follow this one (the rest of a contest's ensemble), counted
    /// at this run's speed (`ContestPlan.imagesAfter`), so that progress can show the time left for
    /// all of them.
    var imagesAfter = 0
    /// What the run's files may replace (`OutputPolicy`): the command's inputs and `--force`.
    var policy = OutputPolicy()

    init(_ setup: TrainSetup, dataRoot: String?, out: String) {
        settings = setup.settings
        augmentation = setup.augmentation
        network = setup.network
        self.dataRoot = dataRoot
        self.out = out
    }

    /// Training images per epoch: the training split less the held-out images, within the limit.
    var trainImages: Int {
        let all = Dataset(rawValue: settings.dataset)?.trainingImages ?? 0
        let n = all - min(settings.validation, all / 2)
        return settings.trainLimit.map { min($0, n) } ?? n
    }

    var checkpointPath: String { stem + ".checkpoint.npz" }
    var historyCSV: String { stem + ".history.csv" }
    var historyPlot: String { stem + ".history.png" }
    /// Every file the run writes, and what it holds.
    var outputs: [(path: String, kind: FileKind)] { [(out, .model), (checkpointPath, .model), (historyCSV, .history), (historyPlot, .image)] }
    var stem: String { out.hasSuffix(".npz") ? String(out.dropLast(4)) : out }

    /// Splits a training set's indices: `validation` held-out images, the same for every seed, and the rest.
    static func split(_ set: ImageSet, validation: Int) -> (train: [Int], validation: [Int]) {
        var order = Array(0 ..< set.count)
        var rng = SeededRNG(seed: 0x5EED_DA7A)
        rng.shuffle(&order)
        let v = min(validation, set.count / 2)
        return (Array(order[v...]).sorted(), Array(order[..<v]).sorted())
    }

    /// Refuses outputs that could not be written (see `FileIO.checkWritable`): called before
    /// anything is trained or locked, so an error costs no training and leaves no lock file.
    func checkOutputs() throws {
        for o in outputs { try FileIO.checkWritable(o.path, as: o.kind, policy: policy) }
    }

    func run() throws -> TrainRecord {
        if resume, let done = try? TrainRecord.read(out), done.settings == settings, done.isFinished {
            say("\(out) holds this run finished: \(done.epochsDone) of \(settings.epochs) epochs, best epoch \(done.bestEpoch)"
                + (done.bestValidationAccuracy.map { String(format: " (validation accuracy %.2f%%)", 100 * $0) } ?? "")
                + "; nothing to resume")
            // A run killed while it removed its checkpoint leaves it behind; nothing else would remove it.
            removeFinishedCheckpoint()
            return done
        }
        guard let dataset = Dataset(rawValue: settings.dataset) else { throw ValidationErrorText("unknown dataset \(settings.dataset)") }
        let full = try dataset.load(root: dataRoot, train: true)
        guard settings.validation <= full.count / 2 else {
            throw ValidationErrorText("--validation \(settings.validation) holds out more than half of the \(full.count) "
                + "\(dataset) training images: give 0 to \(full.count / 2)")
        }
        var (trainIdx, valIdx) = TrainingRun.split(full, validation: settings.validation)
        if let n = settings.trainLimit { trainIdx = Array(trainIdx.prefix(n)) }
        let classes = full.classNames.count
        let s = settings
        var batches = Minibatches(full, augment: augmentation, seed: s.seed)
        guard let kind = OptimizerKind(rawValue: s.optimizer) else { throw ValidationErrorText("unknown optimizer \(s.optimizer)") }
        let checkpoint = resume && FileManager.default.fileExists(atPath: checkpointPath)
            ? try ModelFile.load(checkpointPath, seed: s.seed) : nil
        let net = checkpoint?.network ?? network
        guard net.inputShape == [full.channels, full.height, full.width], net.classes == classes else {
            throw ValidationErrorText("\(s.net) was built for other images than \(dataset)'s")
        }
        try net.checkMemory(batch: s.batch)
        // A whitening layer is fitted once, before the first step, and then frozen (a checkpoint
        // holds it): to the first 5,000 training images, not augmented, as airbench does.
        if checkpoint == nil && net.needsWhitening { net.fitWhitening(Network.input(full, indices: trainIdx.prefix(TrainingRun.whiteningImages))) }
        let optimizer = OptimizerConfig(kind, learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon,
                                        weightDecay: s.weightDecay, l1: s.l1, bnBiasScale: s.bnBiasScale ?? 1,
                                        bnBiasDecay: s.bnBiasDecay ?? false)
        let trainer = Trainer(net: net, optimizer: optimizer, schedule: try Schedule(parsing: s.schedule), smoothing: s.smoothing)
        if let decay = s.ema { try trainer.keepAverage(decay: decay) }
        let stepsPerEpoch = (trainIdx.count + s.batch - 1) / s.batch
        let totalSteps = stepsPerEpoch * s.epochs
        if s.lookahead == true { trainer.keepLookahead(totalSteps: totalSteps) }
        var record = TrainRecord(settings: s, epochsDone: 0, bestEpoch: 0, bestValidationAccuracy: nil, history: [], seconds: 0,
                                 threads: Threads.count)
        if let c = checkpoint {
            let old = try JSONDecoder().decode(TrainRecord.self, from: Foundation.Data(c.meta.utf8))
            guard old.settings == s else {
                throw ValidationErrorText("\(checkpointPath) was trained with other settings; remove it or drop --resume")
            }
            if let st = c.optimizerState {
                do {
                    try trainer.optimizer.restore(t: st.t, first: st.first, second: st.second, params: net.params)
                } catch {
                    throw ValidationErrorText("\(checkpointPath): \(error); remove it or drop --resume")
                }
            }
            trainer.resume(atStep: c.step ?? 0)
            if let average = trainer.average {
                guard let saved = c.average else {
                    throw ValidationErrorText("\(checkpointPath) lacks the weight average of --ema \(average.decay); remove it or drop --resume")
                }
                try average.restore(updates: saved.updates, values: saved.values)
            }
            if let lookahead = trainer.lookahead {
                guard let saved = c.lookahead else {
                    throw ValidationErrorText("\(checkpointPath) lacks the lookahead weights of --lookahead; remove it or drop --resume")
                }
                try lookahead.restore(saved)
            }
            record = old
            say("resuming from \(checkpointPath) after epoch \(old.epochsDone)")
        }
        let statisticsBatches = s.ema == nil ? [] : TrainingRun.batchStatisticsBatches(trainIdx, batch: s.batch, seed: s.seed)
        // The model that is validated and saved: the weight average when there is one.
        let model = trainer.average?.network ?? net
        say("training \(net.spec) (\(net.parameterCount) parameters) on \(dataset.rawValue): \(trainIdx.count) images, "
            + "\(valIdx.count) held out; \(s.optimizer) lr \(s.learningRate) \(s.schedule), batch \(s.batch), "
            + (s.bnBiasScale.map { "BN bias lr ×\($0), " } ?? "") + (s.bnBiasDecay == true ? "BN biases decay, " : "")
            + "augment \(augmentation), smoothing \(s.smoothing), "
            + (s.ema.map { "weight average \($0), " } ?? "") + (s.lookahead == true ? "lookahead, " : "") + "seed \(s.seed), threads \(Threads.count)")
        let runStart = Date()
        let progress = Progress(label: label)
        for epoch in record.epochsDone ..< max(record.epochsDone, min(s.epochs, stopAfter ?? s.epochs)) {
            let epochStart = Date()
            var order = trainIdx
            var rng = SeededRNG(seed: s.seed, stream: [UInt64(epoch), 0x0D]); rng.shuffle(&order)
            var lossSum = 0.0, correct = 0, seen = 0
            var lr: Float = 0
            // Nothing of a diverged epoch is saved, so the files keep the last good one.
            func diverged(_ what: String) -> ValidationErrorText {
                ValidationErrorText("training diverged in epoch \(epoch + 1): \(what); lower --lr (now \(s.learningRate); "
                    + "the \(s.schedule) schedule was at \(lr)). Nothing of this epoch was saved"
                    + (record.epochsDone > 0 ? "; \(checkpointPath) holds epoch \(record.epochsDone)" : ""))
            }
            for step in 0 ..< stepsPerEpoch {
                try Interrupt.check(epochsDone: record.epochsDone)
                let batch = order[step * s.batch ..< min(order.count, (step + 1) * s.batch)]
                let (x, t) = batches.make(batch, epoch: epoch, step: step)
                lr = trainer.learningRate(totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch)
                let (l, c) = trainer.trainStep(x: x, targets: t, lr: lr)
                guard l.isFinite else { throw diverged("the loss became \(l) at step \(step + 1)") }
                lossSum += Double(l) * Double(batch.count); correct += c; seen += batch.count
                let elapsed = Date().timeIntervalSince(epochStart)
                let rate = Double(seen) / max(elapsed, 1e-9)
                let left = Double(totalSteps - trainer.step) * Double(s.batch) / rate
                let all = imagesAfter > 0 ? " (all members \(duration(left + Double(imagesAfter) / rate)))" : ""
                progress.update(String(format: "epoch %d/%d  batch %d/%d  loss %.4f  %.0f img/s  %@ left%@",
                                       epoch + 1, s.epochs, step + 1, stepsPerEpoch, lossSum / Double(seen), rate, duration(left), all),
                                fraction: Double(step + 1) / Double(stepsPerEpoch))
            }
            // The loss can stay finite while weights overflow.
            if let bad = net.firstNonFiniteArray { throw diverged("array '\(bad)' is no longer finite") }
            if let average = trainer.average {
                average.network.recomputeBatchStatistics(batches: statisticsBatches.count) { k in
                    Network.input(full, indices: statisticsBatches[k])
                }
                if let bad = model.firstNonFiniteArray { throw diverged("array '\(bad)' of the weight average is no longer finite") }
            }
            let seconds = Date().timeIntervalSince(epochStart)
            let validation = valIdx.isEmpty ? nil : evaluate(model, full, valIdx)
            let val = validation?.accuracy
            let stats = EpochStats(epoch: epoch + 1, loss: lossSum / Double(seen), trainAccuracy: Double(correct) / Double(seen),
                                   validationLoss: validation?.loss, validationAccuracy: val, learningRate: Double(lr),
                                   imagesPerSecond: Double(seen) / seconds, seconds: seconds)
            record.history.append(stats)
            record.epochsDone = epoch + 1
            record.seconds += seconds
            // The best epoch by validation accuracy (the last one without validation) is the model.
            let isBest = val.map { $0 > (record.bestValidationAccuracy ?? -1) } ?? true
            if isBest { record.bestEpoch = epoch + 1; record.bestValidationAccuracy = val }
            let meta = try json(record)
            if isBest { try ModelFile.save(model, meta: meta, to: out, policy: policy) }
            // The checkpoint holds the trained weights; the trainer adds its optimizer state and weight average.
            try ModelFile.save(net, meta: meta, trainer: trainer, to: checkpointPath, policy: policy)
            try History.write(record, csv: historyCSV, plot: historyPlot, policy: policy)
            progress.finish(String(format: "epoch %d/%d  loss %.4f  train acc %.2f%%  val loss %@  val acc %@  lr %.4g  %.0f img/s  %@%@",
                                   epoch + 1, s.epochs, stats.loss, 100 * stats.trainAccuracy,
                                   validation.map { String(format: "%.4f", $0.loss) } ?? "-",
                                   val.map { String(format: "%.2f%%", 100 * $0) } ?? "-", stats.learningRate,
                                   stats.imagesPerSecond, duration(seconds), isBest && val != nil ? "  (best)" : ""))
        }
        if record.epochsDone < s.epochs {
            say("stopped after epoch \(record.epochsDone) of \(s.epochs); continue with --resume")
            return record
        }
        // The final model file holds the best epoch with the complete record.
        let best = try ModelFile.load(out)
        try ModelFile.save(best.network, meta: try json(record), to: out, policy: policy)
        removeFinishedCheckpoint()
        say(String(format: "trained %@ in %@: best epoch %d, validation accuracy %@",
                   net.spec, duration(Date().timeIntervalSince(runStart)), record.bestEpoch,
                   record.bestValidationAccuracy.map { String(format: "%.2f%%", 100 * $0) } ?? "n/a"))
        say("wrote model \(out), history \(historyCSV), plot \(historyPlot)" + (keepCheckpoint ? ", checkpoint \(checkpointPath)" : ""))
        return record
    }

    /// Removes the checkpoint of this run once it is finished, unless it is to be kept: the model
    /// file's record says the run is done, so nothing is left to resume.
    func removeFinishedCheckpoint() {
        guard !keepCheckpoint, FileManager.default.fileExists(atPath: checkpointPath) else { return }
        do { try FileManager.default.removeItem(atPath: checkpointPath) } catch {
            printWarning("\(checkpointPath): could not remove the finished run's checkpoint: \(error.localizedDescription)")
        }
    }

    /// Training images a patch-whitening layer is fitted to.
    static let whiteningImages = 5000

    func say(_ s: String) { print(label.isEmpty ? s : "[\(label)] \(s)") }

    /// Images whose training-mode batch statistics become the weight average's BN running
    /// statistics: the first 50 batches (5,000 images at batch 100; every full batch of a smaller
    /// set, else the whole set as one) of a fixed shuffle of the training images, seeded by
    /// `seed` alone so that every epoch and a resumed run use the same ones; not augmented.
    /// The batches have the training batch size, as the statistics BN learned to expect do.
    static func batchStatisticsBatches(_ trainIdx: [Int], batch: Int, seed: UInt64) -> [ArraySlice<Int>] {
        var order = trainIdx
        var rng = SeededRNG(seed: seed, stream: [0xB57A7]); rng.shuffle(&order)
        let size = min(batch, order.count), count = min(50, order.count / max(1, size))
        return (0 ..< count).map { order[$0 * size ..< ($0 + 1) * size] }
    }
}

/// Accuracy and mean cross-entropy (without smoothing) of `net` on the images `indices` of `set`.
func evaluate(_ net: Network, _ set: ImageSet, _ indices: [Int]) -> (accuracy: Double, loss: Double) {
    let subset = set.subset(indices)
    let p = net.probabilities(subset)
    return (accuracy(predictions(p, classes: net.classes), subset.labels),
            SoftmaxCrossEntropy.meanCrossEntropy(probabilities: p, labels: subset.labels))
}

func json<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(value), as: UTF8.self)
}
