import ArgumentParser
import Contest
import Augment
import Foundation
import LE4Data
import Net

/// Options that describe a training run, shared by `train` and `contest`.
struct TrainOptions: ParsableArguments {
    @Option(help: "Network: a preset (mlp, mnist-small, cifar-small, digits, cifar-fast) or a spec (see `le4nn bench --help`). Default: mnist-small for 28×28 images (cifar-fast for contest members), cifar-small for cifar10. cifar-fast brings airbench94's recipe: every option below marked (recipe) defaults to it.")
    var net: String?
    @Option(help: "Optimizer: sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam (default: momentum; recipe).")
    var optimizer: OptimizerKind?
    @Option(parsing: .unconditional, help: "Learning rate (default: 0.05 for momentum and nesterov with a schedule, else the course's default for the optimizer; recipe: \(TrainingRecipe.airbench94.learningRatePer1024) × batch/1024, for digits \(TrainingRecipe.airbench94ForDigits.learningRatePer1024) × batch/1024).")
    var lr: Float?
    @Option(parsing: .unconditional, help: "Momentum α, RMSProp/AdaDelta ρ or Adam β1 (default: the course's; recipe).") var beta1: Float?
    @Option(parsing: .unconditional, help: "Adam β2 (default 0.999).") var beta2: Float?
    @Option(parsing: .unconditional, help: "ε of RMSProp, AdaDelta, Adam; h0 of AdaGrad (default: the course's).") var eps: Float?
    @Option(parsing: .unconditional, help: "L2 weight decay on weights (not biases or BN) (default: 0.0005; recipe).") var weightDecay: Float?
    @Option(parsing: .unconditional, help: "L1 penalty on weights.") var l1: Float = 0
    @Option(parsing: .unconditional, help: "Learning rate of batch-norm biases β relative to the others; their weight decay stays that of the weights (default: 1; recipe).")
    var bnBiasLr: Float?
    @Flag(inversion: .prefixedNo, help: "Whether batch-norm biases β take the weight decay as well (default: no; recipe).")
    var bnBiasDecay: Bool?
    @Option(help: "Learning-rate schedule: constant, step[:every=10:gamma=0.1], cosine, onecycle[:warmup=0.2], triangle[:start=0.2:peak=0.23:end=0.07] (default: onecycle; recipe).")
    var schedule: String?
    @Option(parsing: .unconditional, help: "Epochs (default: 12, and 8 for contest members of a net without a recipe; recipe).") var epochs: Int?
    @Option(parsing: .unconditional, help: "Minibatch size (default: 100; recipe).") var batch: Int?
    @Option(help: "Augmentations: none, or a comma-separated list of \(AugmentConfig.catalogue); each with optional :key=value parameters, e.g. crop:pad=3,cutout:size=10,mixup:alpha=0.4 (a wrong one lists them all with defaults). Default: crop for digits, crop,flip for cifar10 and fashion; recipe (for digits \(TrainingRecipe.airbench94ForDigits.augment)).")
    var augment: String?
    @Option(parsing: .unconditional, help: "Label smoothing ε: targets become (1−ε)·onehot + ε/C (default: 0.1; recipe).") var smoothing: Float?
    @Option(parsing: .unconditional, help: "Training images held out for validation, at most half of them; the best epoch by validation accuracy is kept, with 0 the last (default: 5000 for train, 0 for contest; recipe).")
    var validation: Int?
    @Option(help: "Weight initializer: course (N(0,1/N)), xavier, he, uniform (U(±1/√N), PyTorch's) (default: he; recipe).") var initializer: Initializer?
    @Option(parsing: .unconditional, help: "Seed for every random choice (initial weights, order, augmentation, dropout).") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Train on only the first N training images (for quick trials).") var trainLimit: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Validate, save and use a moving average of the weights with this decay, e.g. 0.999, instead of the trained weights. At step t the decay is at most (1+t)/(10+t), so that a short run's average does not keep its initial weights. Its batch-norm statistics are recomputed on 50 training batches each epoch.", valueName: "decay"))
    var ema: Float?
    @Flag(inversion: .prefixedNo, help: "Lookahead, airbench's weight averaging: every 5 steps a slow copy of the weights moves toward the trained ones (by 1 − 0.77·(t/T)³ at step t of T) and training restarts from it; the run ends on the slow copy (default: no; recipe).")
    var lookahead: Bool?
    @Option(parsing: .unconditional, help: ArgumentHelp("Sharpness-aware minimization (SAM, Foret et al. 2021) with radius ρ, around the optimizer: each step takes the gradient at the weights moved by ρ along their gradient's direction, which seeks flat minima (often more robust to new writers). Two passes per step: about twice the training time. Try 0.05.", valueName: "rho"))
    var sam: Float?

    /// The request these options make; `TrainRequest.setup` resolves what they leave out.
    var request: TrainRequest {
        var r = TrainRequest()
        (r.net, r.optimizer, r.lr, r.beta1, r.beta2, r.eps) = (net, optimizer, lr, beta1, beta2, eps)
        (r.weightDecay, r.l1, r.bnBiasLr, r.bnBiasDecay, r.schedule) = (weightDecay, l1, bnBiasLr, bnBiasDecay, schedule)
        (r.epochs, r.batch, r.augment, r.smoothing, r.validation) = (epochs, batch, augment, smoothing, validation)
        (r.initializer, r.seed, r.trainLimit, r.ema, r.lookahead) = (initializer, seed, trainLimit, ema, lookahead)
        r.sam = sam
        return r
    }
}

extension OptimizerKind: ExpressibleByArgument {}
extension Initializer: ExpressibleByArgument {}

/// `le4nn train`: one model.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train one network and save it as an .npz model.",
        discussion: """
        Shows progress (epoch, batch, loss, img/s, time left), then after each epoch the \
        training cross-entropy and the validation cross-entropy and accuracy. Keeps the best \
        epoch in --out, writes <out>.checkpoint.npz every epoch (continue with --resume), \
        <out>.history.csv and a plot <out>.history.png; the last line names the files. The \
        checkpoint is removed when the run finishes (--keep-checkpoint keeps it): --out \
        records that the run is finished, and --resume then says so. With --ema the moving \
        average of the weights is what is validated and kept in --out; the checkpoint holds \
        both. A second run with the same --out is refused while the first holds <out>.lock. \
        Ctrl-C stops after the current batch; the files keep the last finished epoch. When \
        --out holds an earlier run (finished, or with its checkpoint), give --resume to \
        continue it or --fresh to start over.

        The contest's member net; the course's 3-layer net as the course trains it; CIFAR-10:
          le4nn train --dataset mnist --net digits --epochs 8 --out runs/digits.npz
          le4nn train --dataset mnist --net mlp --optimizer sgd --lr 0.01 \\
              --schedule constant --augment none --smoothing 0 --weight-decay 0 \\
              --initializer course --out runs/mlp.npz
          le4nn train --dataset cifar10 --epochs 30 --validation 0 --out runs/cifar.npz
        """)

    @OptionGroup var data: DataOptions
    @OptionGroup var options: TrainOptions
    @Option(help: "Model file to write (.npz).") var out: String
    @Flag(help: "Continue from <out>.checkpoint.npz if it exists (same settings required).") var resume = false
    @Flag(help: "Start over although <out>.checkpoint.npz exists, replacing the earlier run's files.") var fresh = false
    @Option(parsing: .unconditional, help: "Stop after this many epochs in total, as if interrupted; continue later with --resume.") var stopAfter: Int?
    @Flag(help: "Keep <out>.checkpoint.npz (optimizer state, trained weights under --ema) when the run finishes.")
    var keepCheckpoint = false
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        try checkCount(stopAfter, "stop-after", Limits.epochs)
        if resume && fresh { throw ValidationError("--resume continues the earlier run, --fresh starts over: give one of them") }
        let setup = try options.request.setup(dataset: data.dataset), settings = setup.settings
        let folders = CreatedFolders()
        try folders.makeParent(of: out)
        var training = TrainingRun(setup, dataRoot: data.root, out: out)
        training.policy = replace.policy(inputs: data.dataset.files(root: data.root))
        training.resume = resume
        training.stopAfter = stopAfter
        training.keepCheckpoint = keepCheckpoint
        try training.checkOutputs()
        guard let lock = try OutputLock.take(out, wait: false) else {
            throw ValidationErrorText("\(out): another le4nn run is writing it; wait for it to finish or choose another --out")
        }
        defer { withExtendedLifetime(lock) {} }
        // A finished run leaves no checkpoint: its model file's record says it is finished.
        if !fresh, let done = try? TrainRecord.read(out), done.isFinished {
            if !resume {
                throw ValidationErrorText("\(out) holds a finished run (\(done.epochsDone) of \(done.settings.epochs) epochs done): start over with --fresh "
                    + "(replaces it), or choose another --out")
            }
            if done.settings != settings {
                throw ValidationErrorText("\(out) holds a finished run with other settings ("
                    + ContestPlan.differences(done.settings, settings).joined(separator: ", ")
                    + "): start over with --fresh (replaces it), or choose another --out")
            }
        }
        // Starting over silently would overwrite the earlier run's model and checkpoint.
        if !resume && !fresh && FileManager.default.fileExists(atPath: training.checkpointPath) {
            throw ValidationErrorText("\(training.checkpointPath) holds an earlier run with this --out: continue it with "
                + "--resume, or start over with --fresh (replaces \(out))")
        }
        Interrupt.catchStopSignals()
        do {
            _ = try training.run()
            folders.kept = true
        } catch var stop as Interrupted {
            stop.lines = [stop.epochsDone == 0
                ? "interrupted in epoch 1, before any epoch was saved; start again with: "
                    + commandLine(removing: "--resume", adding: "--fresh")
                : "interrupted after epoch \(stop.epochsDone) of \(settings.epochs); continue with: "
                    + commandLine(removing: "--fresh", adding: "--resume")]
            throw stop
        }
    }
}
