import Augment
import Foundation
import LE4Data
import Net

/// Everything that decides what a training run produces. Two runs with equal settings (and the
/// same thread count) train the same model, which is how `contest` recognises finished members.
public struct TrainSettings: Codable, Equatable {
    public var dataset: String
    public var net: String
    public var optimizer: String
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var l1: Float
    public var schedule: String
    public var epochs: Int
    public var batch: Int
    public var augment: String
    public var smoothing: Float
    public var validation: Int
    public var initializer: String
    public var seed: UInt64
    /// Train on only the first N images of the training split (quick trials, tests).
    public var trainLimit: Int?
    /// Decay of the weight average that is validated and saved instead of the trained weights
    /// (`WeightAverage`); nil: none. Absent from the JSON when nil, so settings written before it
    /// existed decode, and contest members keep their names.
    public var ema: Float?
    /// Learning rate of BN biases relative to the rest (`OptimizerConfig.bnBiasScale`); nil: 1.
    public var bnBiasScale: Float?
    /// Whether BN biases take the weight decay (`OptimizerConfig.bnBiasDecay`); nil: no.
    public var bnBiasDecay: Bool?
    /// Whether the run trains with Lookahead (`Lookahead`); nil: no.
    public var lookahead: Bool?
    /// SAM's radius ρ (`Trainer.samRadius`); nil: plain steps.
    public var sam: Float?

    /// The optimizer these settings train with.
    public func optimizerConfig() throws -> OptimizerConfig {
        guard let kind = OptimizerKind(rawValue: optimizer) else { throw ValidationErrorText("unknown optimizer \(optimizer)") }
        return OptimizerConfig(kind, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                               l1: l1, bnBiasScale: bnBiasScale ?? 1, bnBiasDecay: bnBiasDecay ?? false)
    }
}

/// A run as the command line describes it, checked: the settings its model file records, the
/// augmentations parsed from `settings.augment` and the network `settings.net` builds, freshly
/// initialised with the run's seed.
public struct TrainSetup {
    public var settings: TrainSettings
    public var augmentation: AugmentConfig
    public var network: Network
}

/// What a finished (or interrupted) run records in its model file's `meta`.
public struct TrainRecord: Codable {
    public var settings: TrainSettings
    public var epochsDone: Int
    public var bestEpoch: Int
    public var bestValidationAccuracy: Double?
    public var history: [EpochStats]
    public var seconds: Double
    public var threads: Int

    /// Every planned epoch is done: nothing is left to resume.
    public var isFinished: Bool { epochsDone >= settings.epochs }

    /// The record in a model file's `meta`; nil when the file does not exist or records no run.
    public static func read(_ path: String) throws -> TrainRecord? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return decode(meta: try ModelFile.load(path).meta)
    }

    /// The record a model file's `meta` holds; nil when it holds none (a model of another tool,
    /// or of an older le4nn).
    public static func decode(meta: String) -> TrainRecord? {
        try? JSONDecoder().decode(TrainRecord.self, from: Foundation.Data(meta.utf8))
    }
}

public struct EpochStats: Codable {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    /// Cross-entropy of the held-out images, without label smoothing (nil: no validation, or a
    /// record written before it was kept).
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var imagesPerSecond: Double
    public var seconds: Double
}
