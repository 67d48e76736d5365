import Foundation
import LE4Data
import Net

/// The main job: the members of an ensemble trained (or reused), measured on the test set, and
/// the answer file with its sidecar JSON written. `le4nn contest` parses its options into one,
/// then calls `train` and `answer`.
public struct ContestRun {
    public var dataset: Dataset
    public var dataRoot: String?
    /// One run per member, in order (`memberRuns`); their files are in `work`.
    public var runs: [TrainingRun]
    public var work: String
    /// Train only member K (1-based) and stop: one machine of several, or one task of a job array.
    public var only: Int?
    /// The images to answer (a contest dump or IDX images); nil: the test images.
    public var input: String?
    /// The images of `input`, read before training (`prepareSubmission`).
    public var images: ImageSet?
    public var answerPath: String
    public var sidecarPath: String
    /// Test-time augmentation (`testTimeViews`), for the test accuracy and the answers.
    public var tta = false
    /// BN adaptation to the images answered before answering them.
    public var adaptBn = false
    /// Semi-supervised learning on the images answered before answering them; nil: none.
    public var semiSupervised: SemiSupervised?
    public var policy: OutputPolicy

    public init(dataset: Dataset, dataRoot: String?, runs: [TrainingRun], work: String, input: String?, answerPath: String,
                sidecarPath: String, policy: OutputPolicy) {
        (self.dataset, self.dataRoot, self.runs, self.work, self.input) = (dataset, dataRoot, runs, work, input)
        (self.answerPath, self.sidecarPath, self.policy) = (answerPath, sidecarPath, policy)
    }

    /// The members' runs: member k has seed `base.seed + k`, the k-th of `augments` and `nets`
    /// (cycled) when given, and its file in `work` named by its seed and a hash of its settings.
    /// Default members are cifar-fast with its recipe (for digits the one without flips), in quick
    /// mode mnist-small; nets without a recipe train 8 epochs.
    public static func memberRuns(_ base: TrainRequest, count: Int, augments: [String]?, nets: [String]?, quick: Bool,
                                  dataset: Dataset, dataRoot: String?, work: String, policy: OutputPolicy) throws -> [TrainingRun] {
        try (0 ..< count).map { k in
            var o = base
            o.seed = base.seed &+ UInt64(k)
            if let a = augments { o.augment = a[k % a.count] }
            if let n = nets { o.net = n[k % n.count] }
            let setup = try o.setup(dataset: dataset, defaultValidation: 0, defaultNet: quick ? "mnist-small" : "cifar-fast",
                                    defaultEpochs: 8)
            let s = setup.settings, hash = String(format: "%08x", fnv1a(try json(s)))
            var run = TrainingRun(setup, dataRoot: dataRoot, out: "\(work)/member-\(s.seed)-\(hash).npz")
            run.resume = true
            run.policy = policy
            run.label = "member \(k + 1)/\(count)"
            return run
        }
    }

    /// Before any training, for a run that writes the submission: its folder, both files checked
    /// writable (not after an hour of training), the answer file's lock, and the images of
    /// `input` read and checked. Keep the lock until the submission is written.
    public func prepareSubmission(folders: CreatedFolders) throws -> (lock: OutputLock, images: ImageSet?) {
        try folders.make((answerPath as NSString).deletingLastPathComponent)
        try FileIO.checkWritable(answerPath, as: .answers, policy: policy)
        try FileIO.checkWritable(sidecarPath, as: .sidecar, policy: policy)
        guard let lock = try OutputLock.take(answerPath, wait: false) else {
            throw ValidationErrorText("\(answerPath): another contest run is writing it; wait for it or choose another --name")
        }
        let images = try input.map { try readImagesToAnswer($0).images }
        if let set = images, [set.channels, set.height, set.width] != dataset.imageShape {
            throw ValidationErrorText("\(input ?? ""): the images to answer must be \(shapeText(dataset.imageShape)) like \(dataset.name)'s, "
                + "found \(shapeText([set.channels, set.height, set.width]))")
        }
        return (lock, images)
    }

    /// Plans, then trains (or reuses, or resumes) the selected members one after the other. A
    /// stop signal throws `Interrupted` saying which member stopped where, and how to go on.
    public func train() throws {
        var runs = self.runs
        let toTrain = runs.indices.filter { k in only.map { $0 == k + 1 } ?? true }
        // Every member's files are checked before the first one trains.
        for k in toTrain { try runs[k].checkOutputs() }
        let plan = try ContestPlan(runs: runs, selected: toTrain, work: work)
        let rates = try plan.measureRates()
        let after = ContestPlan.imagesAfter(images: plan.imagesToTrain, rates: rates)
        for (i, k) in toTrain.enumerated() { runs[k].imagesAfter = after[i] }
        for line in plan.describe(rates: rates, total: runs.count) { print(line) }
        if only == nil { print(answeringPlan()) }
        try stopping("interrupted before the first member started") { try Interrupt.check(epochsDone: 0) }
        for k in toTrain { try trainMember(runs[k], number: k + 1) }
        // From here a stop signal ends the process at once: what is left (answering, with its
        // fine-tuning in memory) writes nothing before the answer file, which it writes atomically,
        // and the same command redoes it. One that came after the last member's last batch is
        // reported now.
        Interrupt.stopCatching()
        try stopping("interrupted after the last member finished") { try Interrupt.check(epochsDone: 0) }
    }

    /// Trains member `number` unless its file is finished; contests sharing `work` train each
    /// member once: one waits for the other's lock, then reuses its file.
    func trainMember(_ run: TrainingRun, number: Int) throws {
        let s = run.settings, path = run.out, member = "member \(number)/\(runs.count)"
        var started = false
        do {
            try Interrupt.check(epochsDone: 0)
            var lock = try OutputLock.take(path, wait: false)
            if lock == nil {
                print("\(member): another run is training \(path); waiting for it")
                lock = try OutputLock.take(path, wait: true)
            }
            defer { withExtendedLifetime(lock) {} }
            // A member file that exists but does not load is damaged: refuse it rather than train over it.
            if let rec = try TrainRecord.read(path), rec.settings == s, rec.isFinished {
                print("\(member): reusing \(path) (trained \(rec.epochsDone) epochs)")
                run.removeFinishedCheckpoint()  // one a kill during the last save left behind
                return
            }
            print("\(member): \(Network.presetName(of: s.net) ?? s.net), augment \(s.augment), seed \(s.seed)")
            started = true
            _ = try run.run()
        } catch var stop as Interrupted {
            stop.lines = [!started ? "interrupted before \(member) started"
                : stop.epochsDone == 0 ? "interrupted: \(member) stopped in epoch 1, before any of its epochs was saved"
                : "interrupted: \(member) stopped after epoch \(stop.epochsDone) of \(s.epochs), which \(run.checkpointPath) keeps",
                ContestRun.continuing]
            throw stop
        }
    }

    /// Runs `body`, giving an `Interrupted` it throws the message `what`.
    private func stopping(_ what: String, _ body: () throws -> Void) throws {
        do { try body() } catch var stop as Interrupted {
            stop.lines = [what, ContestRun.continuing]
            throw stop
        }
    }

    /// How an interrupted contest goes on.
    static var continuing: String {
        "run the same command again to continue (finished members are reused, unfinished ones resume from their checkpoints): "
            + commandLine()
    }

    /// What answering will do after training, for the plan: which images, and what the members
    /// learn from them first.
    func answeringPlan() -> String {
        let n = images?.count ?? dataset.testImages
        var steps = [String]()
        if let semi = semiSupervised {
            let most = Int((Double(n) * semi.fraction).rounded(.up))
            steps.append("semi-supervised learning, \(semi.rounds == 1 ? "" : "\(semi.rounds) rounds of ")\(semi.epochs) fine-tuning epochs "
                + "of up to \(2 * most) images for each member")
        }
        if adaptBn { steps.append("BN adaptation") }
        let what = input.map { "the \(n) images of \($0)" } ?? "the \(dataset.name) test images"
        return "then: answer \(what)" + (steps.isEmpty ? "" : " after " + steps.joined(separator: ", "))
    }

    /// Loads the members, prints each one's and the ensemble's test accuracy, answers `images`
    /// (the test images when nil), with semi-supervised learning and BN adaptation if asked, and
    /// writes the answer file and its sidecar JSON.
    public func answer() throws {
        let ensemble = try Ensemble(paths: runs.map(\.out))
        let test = try dataset.load(root: dataRoot, train: false)
        let probs = ensemble.memberProbabilities(test, tta: tta, dataset: dataset)
        var sidecar = testReport(probs, test)
        let answered = images ?? test
        if let inputPath = input { try ensemble.check(fits: answered, source: inputPath) }
        // The members' probabilities for the images answered, computed when first needed: the
        // test images' are at hand, and BN adaptation changes them.
        var known: [[Float]]? = input == nil ? probs : nil
        func answerProbabilities() -> [[Float]] { known ?? ensemble.memberProbabilities(answered, tta: tta, dataset: dataset) }
        if let semi = semiSupervised {
            let outcome = try semi.learn(ensemble, settings: runs.map(\.settings), images: answered, first: answerProbabilities(),
                                         dataset: dataset, dataRoot: dataRoot, tta: tta)
            known = outcome.probabilities
            let after = input == nil ? outcome.probabilities : ensemble.memberProbabilities(test, tta: tta, dataset: dataset)
            let a = accuracy(predictions(Ensemble.mean(after), classes: dataset.classCount), test.labels)
            print(String(format: "after semi-supervised learning: ensemble of %d: %@ test accuracy %.2f%%", runs.count, dataset.name, 100 * a))
            sidecar["semi_supervised"] = ["rounds": semi.rounds, "epochs": semi.epochs, "fraction": semi.fraction,
                                          "rate": semi.rate, "pseudo_labelled": outcome.chosen,
                                          "ensemble_\(dataset.rawValue)_test_accuracy_after": String(format: "%.4f", a)] as [String: Any]
        }
        if adaptBn {
            ensemble.adaptBatchNorm(to: answered)
            print("BN adaptation: each member's batch-norm statistics re-estimated on the \(answered.count) images answered")
            known = nil
            sidecar["batch_norm_adaptation"] = "statistics re-estimated on the \(answered.count) images answered"
        }
        let answers = predictions(Ensemble.mean(answerProbabilities()), classes: dataset.classCount)
        try writeAnswers(answers, to: answerPath, policy: policy)
        sidecar["answers"] = answerPath
        sidecar["input"] = input ?? "\(dataset.name) test images"
        sidecar["lines"] = answers.count
        let jsonData = try JSONSerialization.data(withJSONObject: sidecar, options: [.prettyPrinted, .sortedKeys])
        try FileIO.writeAtomically(Array(jsonData), to: sidecarPath, as: .sidecar, policy: policy)
        if input == nil {
            print(String(format: "wrote %@ (%d lines); as a submission for the %@ test images it scores %.2f%%",
                         answerPath, answers.count, dataset.name, 100 * accuracy(answers, test.labels)))
        } else {
            print("wrote \(answerPath) (\(answers.count) lines)")
        }
        print("wrote \(sidecarPath): the members, their settings and accuracies, and what was answered")
    }

    /// Prints each member's and the ensemble's accuracy for the test images from their
    /// probabilities `probs`; returns the sidecar's description of the members and the ensemble.
    func testReport(_ probs: [[Float]], _ test: ImageSet) -> [String: Any] {
        var report = [[String: String]]()
        for (i, (p, run)) in zip(probs, runs).enumerated() {
            let a = accuracy(predictions(p, classes: dataset.classCount), test.labels), s = run.settings
            print(String(format: "member %d: %@ test accuracy %.2f%%  (%@)", i + 1, dataset.name, 100 * a, run.out))
            var entry = ["model": run.out, "net": s.net, "augment": s.augment, "seed": String(s.seed), "epochs": String(s.epochs),
                         "\(dataset.rawValue)_test_accuracy": String(format: "%.4f", a)]
            // Only when given, so that the description of a default ensemble stays as it was.
            if let decay = s.ema { entry["ema"] = String(decay) }
            if let rho = s.sam { entry["sam"] = String(rho) }
            report.append(entry)
        }
        let ensembleAccuracy = accuracy(predictions(Ensemble.mean(probs), classes: dataset.classCount), test.labels)
        print(String(format: "ensemble of %d: %@ test accuracy %.2f%%%@", probs.count, dataset.name, 100 * ensembleAccuracy,
                     tta ? " with TTA" : ""))
        var sidecar: [String: Any] = ["members": report, "ensemble_\(dataset.rawValue)_test_accuracy": String(format: "%.4f", ensembleAccuracy)]
        if tta { sidecar["test_time_augmentation"] = dataset.mirrorable ? "mirror and one-pixel moves" : "one-pixel shifts" }
        return sidecar
    }
}

/// FNV-1a, for short stable names of settings.
func fnv1a(_ s: String) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    for b in s.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
    return h
}
