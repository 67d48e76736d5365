import Foundation

/// Learning-rate schedules over a run of `totalSteps` steps.
public enum Schedule: Sendable, Equatable {
    case constant
    /// Multiply by `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)
    /// Cosine decay from the base rate to 0.
    case cosine
    /// Linear warm-up from base/25 to base over the first `warmup` fraction, then cosine to base/1e4.
    case oneCycle(warmup: Float)
    /// airbench's triangle: linear from start·base to base at the `peak` fraction of the steps,
    /// then linear to end·base at the last step.
    case triangle(start: Float, peak: Float, end: Float)

    /// Parses `constant`, `step[:every=E:gamma=G]`, `cosine`, `onecycle[:warmup=W]`,
    /// `triangle[:start=S:peak=P:end=E]`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":").map(String.init)
        var kv = [String: Float]()
        for p in parts.dropFirst() {
            let f = p.split(separator: "=")
            guard f.count == 2, let v = Float(f[1]) else { throw NetError("schedule parameter '\(p)' is not key=value") }
            kv[String(f[0])] = v
        }
        let usage = "use constant, step[:every=10:gamma=0.1], cosine, onecycle[:warmup=0.2] or triangle[:start=0.2:peak=0.23:end=0.07]"
        let allowed: [String: Set<String>] = ["constant": [], "cosine": [], "step": ["every", "gamma"], "onecycle": ["warmup"],
                                              "triangle": ["start", "peak", "end"]]
        guard let name = parts.first, let keys = allowed[name] else { throw NetError("unknown schedule '\(text)': \(usage)") }
        if let bad = kv.keys.first(where: { !keys.contains($0) }) { throw NetError("schedule '\(text)' has no parameter '\(bad)': \(usage)") }
        switch name {
        case "step":
            let every = kv["every"] ?? 10, gamma = kv["gamma"] ?? 0.1
            guard every >= 1, every <= 10_000, every == every.rounded() else { throw NetError("step schedule: every must be a whole number of epochs, 1 to 10000") }
            guard gamma.isFinite, gamma > 0 else { throw NetError("step schedule: gamma must be a positive number") }
            self = .step(every: Int(every), gamma: gamma)
        case "onecycle":
            let warmup = kv["warmup"] ?? 0.2
            guard warmup >= 0, warmup < 1 else { throw NetError("onecycle schedule: warmup must be in [0, 1)") }
            self = .oneCycle(warmup: warmup)
        case "triangle":
            // airbench94's numbers.
            let start = kv["start"] ?? 0.2, peak = kv["peak"] ?? 0.23, end = kv["end"] ?? 0.07
            guard peak > 0, peak < 1 else { throw NetError("triangle schedule: peak must be in (0, 1)") }
            guard start >= 0, start <= 1, end >= 0, end <= 1 else { throw NetError("triangle schedule: start and end must be in [0, 1]") }
            self = .triangle(start: start, peak: peak, end: end)
        case "cosine": self = .cosine
        default: self = .constant
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .step(let e, let g): return "step:every=\(e):gamma=\(g)"
        case .cosine: return "cosine"
        case .oneCycle(let w): return "onecycle:warmup=\(w)"
        case .triangle(let s, let p, let e): return "triangle:start=\(s):peak=\(p):end=\(e)"
        }
    }

    /// The rate at `step` (0-based) of `totalSteps`, with `stepsPerEpoch` for the step schedule.
    public func rate(base: Float, step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Float {
        let progress = Float(step) / Float(max(1, totalSteps))
        switch self {
        case .constant: return base
        case .step(let every, let gamma):
            return base * pow(gamma, Float(step / max(1, stepsPerEpoch * every)))
        case .cosine:
            return base * 0.5 * (1 + cos(Float.pi * progress))
        case .oneCycle(let warmup):
            if progress < warmup { return base / 25 + (base - base / 25) * progress / warmup }
            let q = (progress - warmup) / max(1e-6, 1 - warmup)
            return base / 1e4 + (base - base / 1e4) * 0.5 * (1 + cos(Float.pi * q))
        case .triangle(let start, let peak, let end):
            if progress < peak { return base * (start + (1 - start) * progress / peak) }
            return base * (1 + (end - 1) * (progress - peak) / (1 - peak))
        }
    }
}
