import Net

extension Network {
    /// The name of the first parameter or BN statistic holding a NaN or an infinity, if any.
    /// The loss can stay finite while weights overflow, and such a network answers one class for
    /// every image: it must be neither saved nor used.
    var firstNonFiniteArray: String? {
        (params + buffers).first { !$0.value.allSatisfy(\.isFinite) }?.name
    }
}
