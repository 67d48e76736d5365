/// One training step at a time: forward, loss, backward, update. The epoch loop, data order
/// and augmentation belong to the caller, so the same trainer serves `train`, `contest` and `bench`.
public final class Trainer {
    public let net: Network
    public let optimizer: Optimizer
    public let loss: SoftmaxCrossEntropy
    public let schedule: Schedule
    /// Steps taken so far (the schedule's clock).
    public private(set) var step = 0
    /// The moving average of the weights, when `keepAverage` asked for one: updated after every step.
    public private(set) var average: WeightAverage?
    /// Lookahead's slow weights, when `keepLookahead` asked for them: updated after every step.
    public private(set) var lookahead: Lookahead?
    /// SAM's radius ρ (`sharpnessAware`); nil: plain steps.
    public let samRadius: Float?

    /// `sam`: train by sharpness-aware minimization with radius ρ = `sam` (two passes per step).
    public init(net: Network, optimizer: OptimizerConfig, schedule: Schedule = .constant, smoothing: Float = 0, sam: Float? = nil) {
        self.net = net
        samRadius = sam
        self.optimizer = Optimizer(optimizer)
        self.loss = SoftmaxCrossEntropy(smoothing: smoothing)
        self.schedule = schedule
    }

    /// Starts keeping a moving average of the weights with decay `decay` (see `WeightAverage`).
    public func keepAverage(decay: Float) throws {
        average = try WeightAverage(of: net, decay: decay)
    }

    /// Trains with Lookahead over a run of `totalSteps` steps (see `Lookahead`).
    public func keepLookahead(totalSteps: Int) {
        lookahead = Lookahead(of: net, totalSteps: totalSteps)
    }

    /// Continues a run after `step` steps: the schedule and the dropout masks carry on where they were.
    public func resume(atStep step: Int) {
        self.step = step
        for case let d as Dropout in net.layers { d.calls = UInt64(step) * (samRadius == nil ? 1 : 2) }
    }

    /// The learning rate of the current step.
    public func learningRate(totalSteps: Int, stepsPerEpoch: Int) -> Float {
        schedule.rate(base: optimizer.config.learningRate, step: step, totalSteps: totalSteps, stepsPerEpoch: stepsPerEpoch)
    }

    /// Trains on one minibatch. x: [B, C, H, W], targets: [B, classes] (soft allowed).
    /// Returns the mean loss and how many rows' largest logit is their largest target.
    @discardableResult
    public func trainStep(x: Tensor, targets: [Float], lr: Float) -> (loss: Float, correct: Int) {
        let logits = net.forward(x, training: true)
        let (l, grad) = loss.lossAndGradient(logits: logits, targets: targets)
        net.backward(grad)
        if let rho = samRadius { sharpnessAware(x: x, targets: targets, radius: rho) }
        optimizer.step(net.params, lr: lr)
        average?.update()
        step += 1
        lookahead?.update(afterStep: step)
        return (l, Trainer.correct(logits.data, targets, classes: net.classes))
    }

    /// SAM (Foret et al. 2021, "Sharpness-aware minimization"): replaces the gradient g at the
    /// weights w by the gradient at w + ε, ε = ρ·g/‖g‖ (‖·‖ over all parameters), the worst point
    /// within ρ of w to first order, so that the step seeks weights whose whole neighbourhood has
    /// a low loss. Then puts w back. The second pass's batch statistics are discarded: BN's
    /// running statistics follow the real steps only.
    private func sharpnessAware(x: Tensor, targets: [Float], radius rho: Float) {
        let params = net.params
        let norm = params.reduce(0.0) { s, p in p.grad.reduce(s) { $0 + Double($1) * Double($1) } }.squareRoot()
        guard norm > 0, norm.isFinite else { return }
        let scale = rho / Float(norm)
        let (weights, statistics) = (params.map(\.value), net.buffers.map(\.value))
        for p in params {
            p.value.withUnsafeMutableBufferPointer { w in
                p.grad.withUnsafeBufferPointer { g in for i in w.indices { w[i] += scale * g[i] } }
            }
        }
        let logits = net.forward(x, training: true)
        net.backward(loss.lossAndGradient(logits: logits, targets: targets).grad)
        for (p, w) in zip(params, weights) { p.value = w }
        for (b, v) in zip(net.buffers, statistics) { b.value = v }
    }

    /// Rows whose arg-max agrees between `scores` and `targets`.
    public static func correct(_ scores: [Float], _ targets: [Float], classes: Int) -> Int {
        zip(predictions(scores, classes: classes), predictions(targets, classes: classes)).filter { $0 == $1 }.count
    }
}
