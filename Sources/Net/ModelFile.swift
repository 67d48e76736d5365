import LE4Data

/// Models as NumPy `.npz` files: every parameter and BN running statistic under its layer's
/// name (`3.conv64.W`, `4.bn.running_mean`, ...), plus `arch` (the spec), `input_shape`,
/// `classes` and `meta` (JSON training metadata). Checkpoints add the optimizer state and step,
/// the weight average (`ema.updates`, `ema.<parameter>`) and Lookahead's slow weights
/// (`lookahead.<parameter or statistic>`) when the trainer keeps them.
public enum ModelFile {
    /// What a model file holds besides the network.
    public struct Contents {
        public var network: Network
        /// JSON text written by the trainer (dataset, augmentation, seed, accuracy, ...).
        public var meta: String
        /// Trainer step and optimizer state, present in checkpoints.
        public var step: Int?
        public var optimizerState: (t: Int, first: [[Float]], second: [[Float]])?
        /// The trainer's weight average in a checkpoint (`WeightAverage.restore` continues it):
        /// its update count and one array per parameter.
        public var average: (updates: Int, values: [[Float]])?
        /// Lookahead's slow weights in a checkpoint (`Lookahead.restore` continues them): one
        /// array per parameter, then per buffer.
        public var lookahead: [[Float]]?
    }

    /// Writes `network` (and, for a checkpoint, the trainer's state) atomically, under `policy`.
    public static func save(_ network: Network, meta: String, trainer: Trainer? = nil, to path: String,
                            policy: OutputPolicy = OutputPolicy()) throws {
        var arrays: [(String, NPYArray)] = [
            ("arch", NPYArray(network.spec)),
            ("input_shape", NPYArray(shape: [3], values: .int64(network.inputShape.map(Int64.init)))),
            ("classes", NPYArray(shape: [1], values: .int64([Int64(network.classes)]))),
            ("meta", NPYArray(meta)),
        ]
        for p in network.params + network.buffers { arrays.append((p.name, NPYArray(shape: p.shape, p.value))) }
        if let t = trainer {
            arrays.append(("train.step", NPYArray(shape: [1], values: .int64([Int64(t.step)]))))
            let s = t.optimizer.state
            arrays.append(("opt.t", NPYArray(shape: [1], values: .int64([Int64(s.t)]))))
            for (i, p) in network.params.enumerated() where i < s.first.count {
                arrays.append(("opt.1." + p.name, NPYArray(shape: p.shape, s.first[i])))
                if !s.second[i].isEmpty { arrays.append(("opt.2." + p.name, NPYArray(shape: p.shape, s.second[i]))) }
            }
            if let a = t.average {
                arrays.append(("ema.updates", NPYArray(shape: [1], values: .int64([Int64(a.updates)]))))
                for (p, v) in zip(network.params, a.values) { arrays.append(("ema." + p.name, NPYArray(shape: p.shape, v))) }
            }
            if let l = t.lookahead {
                for (p, v) in zip(network.params + network.buffers, l.slow) { arrays.append(("lookahead." + p.name, NPYArray(shape: p.shape, v))) }
            }
        }
        try NPZ.write(arrays, to: path, as: .model, policy: policy)
    }

    /// Reads a model (or checkpoint), rebuilding the network and checking every array against it
    /// (present, of the right shape, finite).
    /// `seed` seeds the network's dropout layers, for continuing a training run.
    public static func load(_ path: String, seed: UInt64 = 0) throws -> Contents {
        let arrays = try NPZ.read(path)
        var byName = [String: NPYArray]()
        for (n, a) in arrays { byName[n] = a }
        guard let arch = byName["arch"]?.text,
              case .int64(let shape)? = byName["input_shape"]?.values, shape.count == 3,
              case .int64(let cls)? = byName["classes"]?.values, cls.count == 1 else {
            throw DataError(path, "not an le4nn model: it lacks arch, input_shape or classes")
        }
        let net: Network
        do {
            net = try Network(spec: arch, inputShape: shape.map(Int.init), classes: Int(cls[0]), seed: seed)
        } catch {
            throw DataError(path, "its architecture \(quote(arch)) is invalid: \(error)")
        }
        for p in net.params + net.buffers {
            guard let a = byName[p.name], let values = a.floats else {
                throw DataError(path, "array '\(p.name)' that architecture \(quote(arch)) needs is missing")
            }
            guard a.shape == p.shape else {
                throw DataError(path, "array '\(p.name)' has shape \(a.shape), architecture \(quote(arch)) needs \(p.shape)")
            }
            // Weights that overflowed answer one class for every image: such a file is refused.
            guard values.allSatisfy(\.isFinite) else {
                throw DataError(path, "array '\(p.name)' holds values that are not finite (NaN or infinity); the run that wrote it diverged")
            }
            p.value = values
        }
        var contents = Contents(network: net, meta: byName["meta"]?.text ?? "{}")
        if case .int64(let s)? = byName["train.step"]?.values, let step = s.first,
           case .int64(let t)? = byName["opt.t"]?.values, let t0 = t.first {
            contents.step = Int(step)
            // The second arrays exist only for the rules that keep them (AdaDelta, Adam);
            // `Optimizer.restore` checks that the rule finds what it needs.
            let first = net.params.compactMap { byName["opt.1." + $0.name]?.floats }
            let second = net.params.map { byName["opt.2." + $0.name]?.floats ?? [] }
            if first.count == net.params.count { contents.optimizerState = (Int(t0), first, second) }
        }
        // An array the trainer keeps for each parameter (or buffer), under `prefix` and its name.
        func trainerArray(_ prefix: String, of p: Param, _ what: String) throws -> [Float] {
            guard let a = byName[prefix + p.name], a.shape == p.shape, let v = a.floats else {
                throw DataError(path, "array '\(prefix)\(p.name)' of \(what) is missing or not of shape \(p.shape)")
            }
            guard v.allSatisfy(\.isFinite) else {
                throw DataError(path, "array '\(prefix)\(p.name)' holds values that are not finite (NaN or infinity); the run that wrote it diverged")
            }
            return v
        }
        if case .int64(let u)? = byName["ema.updates"]?.values, let updates = u.first {
            contents.average = (Int(updates), try net.params.map { try trainerArray("ema.", of: $0, "the weight average") })
        }
        if byName.keys.contains(where: { $0.hasPrefix("lookahead.") }) {
            contents.lookahead = try (net.params + net.buffers).map { try trainerArray("lookahead.", of: $0, "the lookahead weights") }
        }
        return contents
    }
}
