import LE4Data
import Net

extension Network {
    /// The name of the first parameter or BN statistic holding a NaN or an infinity, if any.
    /// The loss can stay finite while weights overflow, and such a network answers one class for
    /// every image: it must be neither saved nor used.
    var firstNonFiniteArray: String? {
        (params + buffers).first { !$0.value.allSatisfy(\.isFinite) }?.name
    }
}

/// `ModelFile.load`, refusing a model file with an array that is not finite, by name.
func loadModel(_ path: String, seed: UInt64 = 0) throws -> ModelFile.Contents {
    let contents = try ModelFile.load(path, seed: seed)
    if let bad = contents.network.firstNonFiniteArray {
        throw DataError(path, "array '\(bad)' holds values that are not finite (NaN or infinity); the run that wrote it diverged")
    }
    return contents
}
