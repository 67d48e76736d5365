import Augment
import LE4Data
import Net

/// A training run as a user asks for it: every option that may be left out is nil. `setup`
/// resolves it, option ← the net's recipe ← the command's default, in one place for `train`,
/// `contest` and the tests.
public struct TrainRequest: Sendable {
    public var net: String?
    public var optimizer: OptimizerKind?
    public var lr: Float?
    public var beta1: Float?
    public var beta2: Float?
    public var eps: Float?
    public var weightDecay: Float?
    public var l1: Float = 0
    public var bnBiasLr: Float?
    public var bnBiasDecay: Bool?
    public var schedule: String?
    public var epochs: Int?
    public var batch: Int?
    public var augment: String?
    public var smoothing: Float?
    public var validation: Int?
    public var initializer: Initializer?
    public var seed: UInt64 = 1
    public var trainLimit: Int?
    public var ema: Float?
    public var lookahead: Bool?
    /// SAM's radius ρ; nil: plain steps.
    public var sam: Float?

    public init() {}

    /// The run this request describes. An option not given takes the net's recipe
    /// (`TrainingRecipe.forPreset`) if it has one, else the defaults given here. The augmentations
    /// are parsed and the network built here, once: the run uses both. Throws `OptionError` for a
    /// value out of range.
    public func setup(dataset: Dataset, defaultValidation: Int = 5000, defaultNet: String? = nil,
                      defaultEpochs: Int = 12) throws -> TrainSetup {
        let netSpec = try checkNetOption(net ?? defaultNet ?? (dataset == .cifar10 ? "cifar-small" : "mnist-small"))
        let recipe = TrainingRecipe.forPreset(netSpec, mirrorable: dataset.mirrorable)
        let validation = self.validation ?? recipe?.validation ?? defaultValidation
        let epochs = self.epochs ?? recipe?.epochs ?? defaultEpochs
        let batch = self.batch ?? recipe?.batch ?? 100
        let optimizer = self.optimizer ?? recipe?.optimizer ?? .momentum
        let beta1 = self.beta1 ?? recipe?.beta1
        let weightDecay = self.weightDecay ?? recipe?.weightDecay ?? 5e-4
        let bnBiasLr = self.bnBiasLr ?? recipe?.bnBiasScale ?? 1
        let bnBiasDecay = self.bnBiasDecay ?? recipe?.bnBiasDecay ?? false
        let schedule = self.schedule ?? recipe?.schedule ?? "onecycle"
        let smoothing = self.smoothing ?? recipe?.smoothing ?? 0.1
        let initializer = self.initializer ?? recipe?.initializer ?? .he
        let lookahead = self.lookahead ?? recipe?.lookahead ?? false
        try checkCount(epochs, "epochs", Limits.epochs)
        try checkCount(batch, "batch", Limits.batch)
        try checkCount(validation, "validation", Limits.validation)
        try checkCount(trainLimit, "train-limit", Limits.trainLimit)
        try checkRanges()
        _ = try Schedule(parsing: schedule)
        // Flips only where a mirrored image is the same class: never for digits.
        let aug = augment ?? recipe?.augment ?? (dataset.mirrorable ? "crop,flip" : "crop")
        let augmentation = try AugmentConfig(parsing: aug, for: dataset)
        let network = try Network(spec: netSpec, inputShape: dataset.imageShape, classes: dataset.classCount, initializer: initializer, seed: seed)
        let base = OptimizerConfig(optimizer, learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps)
        let momentumKind = optimizer == .momentum || optimizer == .nesterov
        let rate = lr ?? recipe?.learningRate(batch: batch) ?? (momentumKind && schedule != "constant" ? 0.05 : base.learningRate)
        // Only when they differ from the defaults, so that earlier runs' settings (and contest
        // member names) stay as they were.
        let settings = TrainSettings(dataset: dataset.rawValue, net: Network.expand(netSpec), optimizer: optimizer.rawValue,
                                     learningRate: rate, beta1: base.beta1, beta2: base.beta2, epsilon: base.epsilon,
                                     weightDecay: weightDecay, l1: l1, schedule: schedule, epochs: epochs, batch: batch,
                                     augment: augmentation.description, smoothing: smoothing, validation: validation,
                                     initializer: initializer.rawValue, seed: seed, trainLimit: trainLimit, ema: ema,
                                     bnBiasScale: bnBiasLr == 1 ? nil : bnBiasLr, bnBiasDecay: bnBiasDecay ? true : nil,
                                     lookahead: lookahead ? true : nil, sam: sam)
        return TrainSetup(settings: settings, augmentation: augmentation, network: network)
    }

    /// Out-of-range values train nothing useful (lr 0), diverge (negative decay) or invert the
    /// targets (smoothing ≥ 1): refused with the valid range.
    private func checkRanges() throws {
        func check(_ value: Float?, _ option: String, _ range: String, _ ok: (Float) -> Bool) throws {
            if let v = value, !(v.isFinite && ok(v)) { throw OptionError("--\(option) must be \(range), got \(v)") }
        }
        try check(lr, "lr", "a number > 0", { $0 > 0 })
        try check(beta1, "beta1", "in [0, 1)", { $0 >= 0 && $0 < 1 })
        try check(beta2, "beta2", "in [0, 1)", { $0 >= 0 && $0 < 1 })
        try check(eps, "eps", "a number > 0", { $0 > 0 })
        try check(weightDecay, "weight-decay", "a number ≥ 0", { $0 >= 0 })
        try check(l1, "l1", "a number ≥ 0", { $0 >= 0 })
        try check(smoothing, "smoothing", "in [0, 1)", { $0 >= 0 && $0 < 1 })
        try check(ema, "ema", "in [0, 1)", { $0 >= 0 && $0 < 1 })
        try check(bnBiasLr, "bn-bias-lr", "a number > 0", { $0 > 0 })
        try check(sam, "sam", "in (0, 10]", { $0 > 0 && $0 <= 10 })
    }
}

/// Refuses --net text that cannot be a spec before Net parses it: its errors repeat the whole spec,
/// and thousands of layers would be slow to build. Returns the text.
public func checkNetOption(_ spec: String) throws -> String {
    guard spec.unicodeScalars.count <= 1000, spec.unicodeScalars.allSatisfy({ (0x21 ... 0x7e).contains($0.value) }) else {
        throw ValidationErrorText("--net \(quote(spec)) is not a network: a preset or spec is at most 1000 characters, "
            + "printable ASCII without spaces")
    }
    return spec
}

/// The bounds of the counts a user types, each checked before any work starts: every one of them
/// multiplies into time or memory, and an unbounded one overflows or exhausts memory instead of
/// giving an error.
public enum Limits {
    /// Epochs of a run (10,000 epochs of the smallest net on MNIST take weeks).
    public static let epochs = 1 ... 10_000
    public static let batch = 1 ... 65_536
    public static let validation = 0 ... 10_000_000
    public static let trainLimit = 1 ... 10_000_000
    /// Members of a contest ensemble (100 of the default member take about two days).
    public static let members = 1 ... 100
}

/// Refuses a count outside `range`, naming the option and its bounds.
public func checkCount(_ value: Int?, _ option: String, _ range: ClosedRange<Int>) throws {
    guard let v = value, !range.contains(v) else { return }
    throw ValidationErrorText("--\(option) must be \(range.lowerBound) to \(range.upperBound), got \(v)")
}
