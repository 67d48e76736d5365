import LE4Data

/// The batch-norm running statistics of a network, estimated anew from batches of images: for
/// weights averaged after training (`WeightAverage`), and for images of other writers than the
/// training set's (BN adaptation, AdaBN: Li et al. 2016), whose strokes shift every layer's
/// statistics while the weights stay as trained.
extension Network {
    /// Sets every BN layer's running mean and variance to the mean, over `batches` batches, of
    /// the statistics training mode computes for each batch. Only the layers up to the last BN
    /// run, in training mode (dropout included, as when the trained network's statistics were
    /// gathered, with the same masks at every call so that a resumed run recomputes what an
    /// uninterrupted one does). No weight changes.
    /// `input(k)`: batch k, [B, C, H, W]; not called for a network without BN.
    public func recomputeBatchStatistics(batches: Int, input: (Int) -> Tensor) {
        guard batches > 0, let last = layers.lastIndex(where: { $0 is BatchNorm }) else { return }
        let norms = layers.compactMap { $0 as? BatchNorm }
        for case let d as Dropout in layers { d.calls = 0 }
        // From zero, the first batch's update r + 1·(b − r) is exactly b: the result depends on
        // the batches alone, not on what an earlier call (or the checkpoint) left behind.
        for bn in norms {
            for i in 0 ..< bn.channels { bn.runningMean.value[i] = 0; bn.runningVar.value[i] = 0 }
        }
        defer { for bn in norms { bn.momentum = bn.trainingMomentum } }
        for k in 0 ..< batches {
            // Weight 1/(k+1) for batch k keeps the running values the mean of batches 0...k.
            for bn in norms { bn.momentum = 1 / Float(k + 1) }
            var x = input(k)
            for layer in layers[...last] { x = layer.forward(x, training: true) }
        }
    }

    /// BN adaptation: the running statistics re-estimated on the images of `set`, all of them, in
    /// batches of at most `batch` as equal in size as can be (each batch weighs the same), so that
    /// inference normalizes each layer as the images to answer need. Batch k takes every k-th
    /// image (k, k + count, ...): a set in some order (by class, by writer) still gives batches
    /// like the whole, without a random choice. Labels are never read.
    public func adaptBatchNorm(to set: ImageSet, batch: Int = 500) {
        guard set.count > 0 else { return }
        let count = (set.count + batch - 1) / batch
        recomputeBatchStatistics(batches: count) { k in
            Network.input(set, indices: Array(stride(from: k, to: set.count, by: count)))
        }
    }
}
