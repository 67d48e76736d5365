import Augment
import Foundation
import LE4Data
import Net

/// Trains one model: the epoch loop around `Trainer`, with progress, validation, the best
/// epoch, checkpoints, history CSV and plot.
public struct TrainingRun {
    public var settings: TrainSettings
    /// `settings.augment`, parsed.
    public var augmentation: AugmentConfig
    /// The network a fresh run starts from (a resumed run continues its checkpoint's instead).
    /// Training changes it in place: one `run()` per setup.
    public var network: Network
    public var dataRoot: String?
    public var out: String
    public var resume: Bool = false
    /// Prefix for progress lines (an ensemble member's name).
    public var label: String = ""
    /// Stop after this many epochs in total, as if interrupted (continue with `resume`).
    public var stopAfter: Int?
    /// Keep the checkpoint of a finished run (by default it is removed: the model file's record
    /// says the run is finished, so there is nothing left to resume).
    public var keepCheckpoint = false
    /// Training images of the runs that follow this one (the rest of a contest's ensemble), counted
    /// at this run's speed (`ContestPlan.imagesAfter`), so that progress can show the time left for
    /// all of them.
    public var imagesAfter = 0
    /// What the run's files may replace (`OutputPolicy`): the command's inputs and `--force`.
    public var policy = OutputPolicy()

    public init(_ setup: TrainSetup, dataRoot: String?, out: String) {
        settings = setup.settings
        augmentation = setup.augmentation
        network = setup.network
        self.dataRoot = dataRoot
        self.out = out
    }

    /// Training images per epoch: the training split less the held-out images, within the limit.
    public var trainImages: Int {
        let all = Dataset(rawValue: settings.dataset)?.trainingImages ?? 0
        let n = all - min(settings.validation, all / 2)
        return settings.trainLimit.map { min($0, n) } ?? n
    }

    public var checkpointPath: String { stem + ".checkpoint.npz" }
    public var historyCSV: String { stem + ".history.csv" }
    public var historyPlot: String { stem + ".history.png" }
    /// Every file the run writes, and what it holds.
    public var outputs: [(path: String, kind: FileKind)] { [(out, .model), (checkpointPath, .model), (historyCSV, .history), (historyPlot, .image)] }
    var stem: String { out.hasSuffix(".npz") ? String(out.dropLast(4)) : out }

    /// Splits the indices of a training set of `count` images as `s` says: `s.validation` held-out
    /// images, the same for every seed, and the rest, cut to `s.trainLimit`.
    static func split(count: Int, _ s: TrainSettings) -> (train: [Int], validation: [Int]) {
        var order = Array(0 ..< count)
        var rng = SeededRNG(seed: 0x5EED_DA7A)
        rng.shuffle(&order)
        let v = min(s.validation, count / 2), train = Array(order[v...]).sorted()
        return (s.trainLimit.map { Array(train.prefix($0)) } ?? train, Array(order[..<v]).sorted())
    }

    /// Refuses outputs that could not be written (see `FileIO.checkWritable`): called before
    /// anything is trained or locked, so an error costs no training and leaves no lock file.
    public func checkOutputs() throws {
        for o in outputs { try FileIO.checkWritable(o.path, as: o.kind, policy: policy) }
    }

    /// Trains the run (or continues its checkpoint with `resume`) to its last epoch, or to
    /// `stopAfter`, and returns its record. Each epoch's best model, checkpoint and history are
    /// saved before the next begins; a stop signal throws `Interrupted` between batches.
    public func run() throws -> TrainRecord {
        if resume, let done = try? TrainRecord.read(out), done.settings == settings, done.isFinished {
            say("\(out) holds this run finished: \(done.epochsDone) of \(settings.epochs) epochs, best epoch \(done.bestEpoch)"
                + (done.bestValidationAccuracy.map { String(format: " (validation accuracy %.2f%%)", 100 * $0) } ?? "")
                + "; nothing to resume")
            // A run killed while it removed its checkpoint leaves it behind; nothing else would remove it.
            removeFinishedCheckpoint()
            return done
        }
        var state = try start()
        say(describe(state))
        let runStart = Date()
        let progress = Progress(label: label)
        for epoch in state.record.epochsDone ..< max(state.record.epochsDone, min(settings.epochs, stopAfter ?? settings.epochs)) {
            try trainEpoch(epoch, &state, progress: progress)
        }
        if state.record.epochsDone < settings.epochs {
            say("stopped after epoch \(state.record.epochsDone) of \(settings.epochs); continue with --resume")
            return state.record
        }
        // The final model file holds the best epoch with the complete record.
        let best = try ModelFile.load(out)
        try ModelFile.save(best.network, meta: try json(state.record), to: out, policy: policy)
        removeFinishedCheckpoint()
        say(String(format: "trained %@ in %@: best epoch %d, validation accuracy %@",
                   state.net.spec, duration(Date().timeIntervalSince(runStart)), state.record.bestEpoch,
                   state.record.bestValidationAccuracy.map { String(format: "%.2f%%", 100 * $0) } ?? "n/a"))
        say("wrote model \(out), history \(historyCSV), plot \(historyPlot)" + (keepCheckpoint ? ", checkpoint \(checkpointPath)" : ""))
        return state.record
    }

    /// What a started run works on: the data, the trainer, and the record so far.
    struct State {
        var full: ImageSet
        var trainIdx: [Int], valIdx: [Int]
        var batches: Minibatches
        /// The trained network (the checkpoint's when resumed).
        var net: Network
        var trainer: Trainer
        var record: TrainRecord
        var stepsPerEpoch: Int
        /// Batches of the training images whose statistics the weight average's BN layers take.
        var statisticsBatches: [ArraySlice<Int>]
        var totalSteps: Int { stepsPerEpoch * record.settings.epochs }
        /// The model that is validated and saved: the weight average when there is one.
        var model: Network { trainer.average?.network ?? net }
    }

    /// Loads the data, builds the trainer and, with `resume`, restores the checkpoint; a fresh
    /// run's whitening layer is fitted here.
    func start() throws -> State {
        let s = settings
        guard let dataset = Dataset(rawValue: s.dataset) else { throw ValidationErrorText("unknown dataset \(s.dataset)") }
        let full = try dataset.load(root: dataRoot, train: true)
        guard s.validation <= full.count / 2 else {
            throw ValidationErrorText("--validation \(s.validation) holds out more than half of the \(full.count) "
                + "\(dataset) training images: give 0 to \(full.count / 2)")
        }
        let (trainIdx, valIdx) = TrainingRun.split(count: full.count, s)
        let batches = Minibatches(full, augment: augmentation, seed: s.seed)
        let checkpoint = resume && FileManager.default.fileExists(atPath: checkpointPath)
            ? try ModelFile.load(checkpointPath, seed: s.seed) : nil
        let net = checkpoint?.network ?? network
        guard net.inputShape == [full.channels, full.height, full.width], net.classes == full.classNames.count else {
            throw ValidationErrorText("\(s.net) was built for other images than \(dataset)'s")
        }
        try net.checkMemory(batch: s.batch)
        // A whitening layer is fitted once, before the first step, and then frozen (a checkpoint
        // holds it): to the first 5,000 training images, not augmented, as airbench does.
        if checkpoint == nil && net.needsWhitening { net.fitWhitening(Network.input(full, indices: trainIdx.prefix(TrainingRun.whiteningImages))) }
        let trainer = Trainer(net: net, optimizer: try s.optimizerConfig(), schedule: try Schedule(parsing: s.schedule), smoothing: s.smoothing,
                              sam: s.sam)
        if let decay = s.ema { try trainer.keepAverage(decay: decay) }
        let stepsPerEpoch = (trainIdx.count + s.batch - 1) / s.batch
        if s.lookahead == true { trainer.keepLookahead(totalSteps: stepsPerEpoch * s.epochs) }
        var record = TrainRecord(settings: s, epochsDone: 0, bestEpoch: 0, bestValidationAccuracy: nil, history: [], seconds: 0,
                                 threads: Threads.count)
        if let c = checkpoint {
            record = try restore(c, into: trainer)
            say("resuming from \(checkpointPath) after epoch \(record.epochsDone)")
        }
        let statisticsBatches = s.ema == nil ? [] : TrainingRun.batchStatisticsBatches(trainIdx, batch: s.batch, seed: s.seed)
        return State(full: full, trainIdx: trainIdx, valIdx: valIdx, batches: batches, net: net, trainer: trainer, record: record,
                     stepsPerEpoch: stepsPerEpoch, statisticsBatches: statisticsBatches)
    }

    /// The checkpoint's optimizer state, step, weight average and Lookahead weights, put into
    /// `trainer`; returns the checkpoint's record.
    func restore(_ c: ModelFile.Contents, into trainer: Trainer) throws -> TrainRecord {
        guard let old = TrainRecord.decode(meta: c.meta), old.settings == settings else {
            throw ValidationErrorText("\(checkpointPath) was trained with other settings; remove it or drop --resume")
        }
        if let st = c.optimizerState {
            do {
                try trainer.optimizer.restore(t: st.t, first: st.first, second: st.second, params: trainer.net.params)
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
        return old
    }

    /// The line a run starts with: the net, the data and every setting that shapes training.
    func describe(_ state: State) -> String {
        let s = settings
        return "training \(state.net.spec) (\(state.net.parameterCount) parameters) on \(s.dataset): \(state.trainIdx.count) images, "
            + "\(state.valIdx.count) held out; \(s.optimizer) lr \(s.learningRate) \(s.schedule), batch \(s.batch), "
            + (s.bnBiasScale.map { "BN bias lr ×\($0), " } ?? "") + (s.bnBiasDecay == true ? "BN biases decay, " : "")
            + "augment \(augmentation), smoothing \(s.smoothing), "
            + (s.ema.map { "weight average \($0), " } ?? "") + (s.lookahead == true ? "lookahead, " : "")
            + (s.sam.map { "SAM ρ \($0), " } ?? "") + "seed \(s.seed), threads \(Threads.count)"
    }

    /// One epoch: its steps with progress, then the checks, validation and files of its end.
    /// Nothing of a diverged epoch is saved, so the files keep the last good one.
    func trainEpoch(_ epoch: Int, _ state: inout State, progress: Progress) throws {
        let s = settings, epochStart = Date()
        var order = state.trainIdx
        var rng = SeededRNG(seed: s.seed, stream: [UInt64(epoch), 0x0D]); rng.shuffle(&order)
        var lossSum = 0.0, correct = 0, seen = 0
        var lr: Float = 0
        let done = state.record.epochsDone
        func diverged(_ what: String) -> ValidationErrorText {
            ValidationErrorText("training diverged in epoch \(epoch + 1): \(what); lower --lr (now \(s.learningRate); "
                + "the \(s.schedule) schedule was at \(lr)). Nothing of this epoch was saved"
                + (done > 0 ? "; \(checkpointPath) holds epoch \(done)" : ""))
        }
        for step in 0 ..< state.stepsPerEpoch {
            try Interrupt.check(epochsDone: done)
            let batch = order[step * s.batch ..< min(order.count, (step + 1) * s.batch)]
            let (x, t) = state.batches.make(batch, epoch: epoch, step: step)
            lr = state.trainer.learningRate(totalSteps: state.totalSteps, stepsPerEpoch: state.stepsPerEpoch)
            let (l, c) = state.trainer.trainStep(x: x, targets: t, lr: lr)
            guard l.isFinite else { throw diverged("the loss became \(l) at step \(step + 1)") }
            lossSum += Double(l) * Double(batch.count); correct += c; seen += batch.count
            let rate = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
            let left = Double(state.totalSteps - state.trainer.step) * Double(s.batch) / rate
            let all = imagesAfter > 0 ? " (all members \(duration(left + Double(imagesAfter) / rate)))" : ""
            progress.update(String(format: "epoch %d/%d  batch %d/%d  loss %.4f  %.0f img/s  %@ left%@",
                                   epoch + 1, s.epochs, step + 1, state.stepsPerEpoch, lossSum / Double(seen), rate, duration(left), all),
                            fraction: Double(step + 1) / Double(state.stepsPerEpoch))
        }
        // The loss can stay finite while weights overflow.
        if let bad = state.net.firstNonFiniteArray { throw diverged("array '\(bad)' is no longer finite") }
        if let average = state.trainer.average {
            let (full, batches) = (state.full, state.statisticsBatches)
            average.network.recomputeBatchStatistics(batches: batches.count) { k in Network.input(full, indices: batches[k]) }
            if let bad = state.model.firstNonFiniteArray { throw diverged("array '\(bad)' of the weight average is no longer finite") }
        }
        let seconds = Date().timeIntervalSince(epochStart)
        let validation = state.valIdx.isEmpty ? nil : evaluate(state.model, state.full, state.valIdx)
        let stats = EpochStats(epoch: epoch + 1, loss: lossSum / Double(seen), trainAccuracy: Double(correct) / Double(seen),
                               validationLoss: validation?.loss, validationAccuracy: validation?.accuracy, learningRate: Double(lr),
                               imagesPerSecond: Double(seen) / seconds, seconds: seconds)
        let isBest = try save(stats, &state)
        progress.finish(String(format: "epoch %d/%d  loss %.4f  train acc %.2f%%  val loss %@  val acc %@  lr %.4g  %.0f img/s  %@%@",
                               epoch + 1, s.epochs, stats.loss, 100 * stats.trainAccuracy,
                               validation.map { String(format: "%.4f", $0.loss) } ?? "-",
                               validation.map { String(format: "%.2f%%", 100 * $0.accuracy) } ?? "-", stats.learningRate,
                               stats.imagesPerSecond, duration(seconds), isBest && validation != nil ? "  (best)" : ""))
    }

    /// Records a finished epoch and writes its files: the model when it is the best so far (by
    /// validation accuracy; without validation the last), the checkpoint, the history. Returns
    /// whether it was the best.
    func save(_ stats: EpochStats, _ state: inout State) throws -> Bool {
        state.record.history.append(stats)
        state.record.epochsDone = stats.epoch
        state.record.seconds += stats.seconds
        let val = stats.validationAccuracy
        let isBest = val.map { $0 > (state.record.bestValidationAccuracy ?? -1) } ?? true
        if isBest { state.record.bestEpoch = stats.epoch; state.record.bestValidationAccuracy = val }
        let meta = try json(state.record)
        if isBest { try ModelFile.save(state.model, meta: meta, to: out, policy: policy) }
        // The checkpoint holds the trained weights; the trainer adds its optimizer state and weight average.
        try ModelFile.save(state.net, meta: meta, trainer: state.trainer, to: checkpointPath, policy: policy)
        try History.write(state.record, csv: historyCSV, plot: historyPlot, policy: policy)
        return isBest
    }

    /// Removes the checkpoint of this run once it is finished, unless it is to be kept: the model
    /// file's record says the run is done, so nothing is left to resume.
    public func removeFinishedCheckpoint() {
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
public func evaluate(_ net: Network, _ set: ImageSet, _ indices: [Int]) -> (accuracy: Double, loss: Double) {
    let subset = set.subset(indices)
    let p = net.probabilities(subset)
    return (accuracy(predictions(p, classes: net.classes), subset.labels),
            SoftmaxCrossEntropy.meanCrossEntropy(probabilities: p, labels: subset.labels))
}

public func json<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(value), as: UTF8.self)
}
