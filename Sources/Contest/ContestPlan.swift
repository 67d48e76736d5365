import Foundation
import LE4Data
import Net

/// What `contest` will do before it does it: for each member, reuse, resume or train (and when a
/// member file of that seed exists with other settings, what differs), and the estimated time.
public struct ContestPlan {
    enum Action { case reuse, resume(epochsDone: Int), train }

    struct Member {
        var run: TrainingRun
        var action: Action
        /// Other member files of this seed in --work, each with what differs from this member's settings.
        var others: [(path: String, differences: [String])]
    }

    var members: [Member]

    /// Inspects --work for each run in `runs` (only those in `selected` are planned).
    init(runs: [TrainingRun], selected: [Int], work: String) throws {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
        members = try selected.map { k in
            let run = runs[k], s = run.settings
            var action = Action.train
            if let done = try TrainRecord.read(run.out), done.settings == s, done.isFinished {
                action = .reuse
            } else if let part = try? TrainRecord.read(run.checkpointPath), part.settings == s {
                action = .resume(epochsDone: part.epochsDone)
            }
            let prefix = "member-\(s.seed)-"
            let others = files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".npz") && !$0.hasSuffix(".checkpoint.npz") }
                .map { "\(work)/\($0)" }.filter { $0 != run.out }.sorted()
                .map { path -> (String, [String]) in
                    guard let r = try? TrainRecord.read(path) else { return (path, ["unreadable"]) }
                    return (path, ContestPlan.differences(r.settings, s))
                }
            return Member(run: run, action: action, others: others)
        }
    }

    /// The settings that differ, as "epochs 8 → 12".
    public static func differences(_ old: TrainSettings, _ new: TrainSettings) -> [String] {
        func fields(_ s: TrainSettings) -> [String: String] {
            guard let data = try? JSONEncoder().encode(s),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object.mapValues { "\($0)" }
        }
        let (a, b) = (fields(old), fields(new))
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            a[key] == b[key] ? nil : "\(key) \(a[key] ?? "unset") → \(b[key] ?? "unset")"
        }
    }

    /// The differences as one short clause: in full when few, else the names of the settings
    /// that differ (a member of another net, --quick's, say, differs in a dozen long values).
    public static func summary(of differences: [String], limit: Int = 160) -> String {
        let full = differences.joined(separator: ", ")
        guard full.count > limit else { return full }
        let names = differences.map { String($0.prefix { $0 != " " }) }
        return "\(differences.count) settings differ: \(names.joined(separator: ", ")); le4nn inspect shows them"
    }

    /// Training images still to go, member by member (0 for a reused member).
    var imagesToTrain: [Int] {
        members.map { m in
            let s = m.run.settings
            let perEpoch = m.run.trainImages
            switch m.action {
            case .reuse: return 0
            case .resume(let done): return max(0, s.epochs - done) * perEpoch
            case .train: return s.epochs * perEpoch
            }
        }
    }

    /// Training images per second of each planned member's net at its batch size, measured now
    /// (about a second each, once per net and batch size); 0 for a member with nothing to train.
    func measureRates() throws -> [Double] {
        var measured = [String: Double]()
        return try zip(members, imagesToTrain).map { m, images in
            guard images > 0 else { return 0 }
            let s = m.run.settings, key = ContestPlan.speedKey(s)
            if let rate = measured[key] { return rate }
            let net = try Network(spec: s.net, inputShape: m.run.network.inputShape, classes: m.run.network.classes, seed: 1)
            // SAM runs two passes per step.
            let rate = measureTraining(net, batch: s.batch, seconds: 1, minSteps: 3).imagesPerSecond / (s.sam == nil ? 1 : 2)
            measured[key] = rate
            return rate
        }
    }

    /// Members with the same net, batch size and SAM or not train at the same speed.
    private static func speedKey(_ s: TrainSettings) -> String { "\(s.batch) \(s.net) \(s.sam != nil)" }

    /// The later members' images in units of each member's own speed: entry i is Σ_{j>i}
    /// images[j] · rates[i] / rates[j]. Progress knows only the live rate of the member in
    /// training, and members of different nets train at different speeds.
    static func imagesAfter(images: [Int], rates: [Double]) -> [Int] {
        images.indices.map { i in
            let later = images.indices.dropFirst(i + 1).filter { images[$0] > 0 }
            return Int(later.reduce(0.0) { $0 + Double(images[$1]) * rates[i] / rates[$1] }.rounded())
        }
    }

    /// The plan as lines for the terminal; `rates`: each planned member's training images per
    /// second, measured now for its net and batch size.
    func describe(rates: [Double], total: Int) -> [String] {
        let images = imagesToTrain
        let toTrain = members.indices.filter { images[$0] > 0 }
        guard !toTrain.isEmpty else { return ["plan: \(members.count) of \(total) members, all finished: nothing to train"] }
        var lines = [String]()
        for (i, m) in members.enumerated() {
            let s = m.run.settings
            let what: String
            switch m.action {
            case .reuse: what = "reuse \(m.run.out) (finished)"
            case .resume(let done): what = "resume after epoch \(done) of \(s.epochs) from \(m.run.checkpointPath)"
            case .train:
                let net = Network.presetName(of: s.net) ?? s.net
                what = "train \(net), \(s.epochs) epochs, augment \(s.augment)" + (s.ema.map { ", EMA \($0)" } ?? "")
                    + (s.lookahead == true ? ", Lookahead" : "") + (s.sam.map { ", SAM ρ \($0)" } ?? "")
            }
            lines.append("  \(m.run.label), seed \(s.seed): \(what)" + (images[i] > 0 ? " — about \(duration(Double(images[i]) / rates[i]))" : ""))
            for (path, diff) in m.others {
                // A finished model of the same settings (say one `train` wrote) is reused under the member's name.
                let why = diff.isEmpty ? "same settings, other file name: rename it to \(m.run.out) and it is reused"
                    : ContestPlan.summary(of: diff)
                lines.append("      not reused: \(path) (\(why))")
            }
        }
        let seconds = toTrain.reduce(0.0) { $0 + Double(images[$1]) / rates[$1] }
        // One measured speed per net and batch size, named when the members have several.
        var seen = Set<String>(), speeds = [String]()
        for k in toTrain {
            let s = members[k].run.settings
            guard seen.insert(ContestPlan.speedKey(s)).inserted else { continue }
            speeds.append(String(format: "%.0f img/s (%@, batch %d)", rates[k], Network.presetName(of: s.net) ?? "the net of \(members[k].run.label)", s.batch))
        }
        let at = speeds.count == 1 ? String(format: "%.0f img/s", rates[toTrain[0]]) : speeds.joined(separator: ", ")
        return [String(format: "plan: %d of %d members, %d to train or resume: about %@ at %@ (measured now on %d threads)",
                       members.count, total, toTrain.count, duration(seconds), at, Threads.count)] + lines
    }
}

/// Training speed of `network` at `batch`, as `bench` and the contest plan measure it: on random
/// images, with a whitening layer fitted to them first (left unfitted, its zero filters feed the
/// layers after it subnormal numbers, which run several times slower: the plan once estimated
/// 137 img/s for members that trained at 354), one step to warm up, then steps until `seconds`
/// have passed and at least `minSteps` were taken.
public func measureTraining(_ network: Network, batch: Int, seconds: Double, minSteps: Int = 1)
    -> (imagesPerSecond: Double, images: Int, seconds: Double) {
    let trainer = Trainer(net: network, optimizer: OptimizerConfig(.momentum), smoothing: 0.1)
    let set = ImageSet.random(count: max(batch, 1000), shape: network.inputShape, classes: network.classes, seed: 2)
    var batches = Minibatches(set)
    if network.needsWhitening { network.fitWhitening(batches.make(0 ..< set.count).x) }
    let (x, t) = batches.make(0 ..< batch)
    trainer.trainStep(x: x, targets: t, lr: 0.01)  // warm-up: buffers, packing buffers
    let start = Date()
    var steps = 0
    while steps < minSteps || Date().timeIntervalSince(start) < seconds {
        trainer.trainStep(x: x, targets: t, lr: 0.01)
        steps += 1
    }
    let elapsed = Date().timeIntervalSince(start)
    return (Double(steps * batch) / elapsed, steps * batch, elapsed)
}

/// The member a job of a cluster's job array trains, when `--only-member` is not given: from
/// Slurm (`SLURM_ARRAY_TASK_ID`, counted from `SLURM_ARRAY_TASK_MIN`, default 0), a Kubernetes
/// Indexed Job (`JOB_COMPLETION_INDEX`, 0-based) or an AWS Batch array job
/// (`AWS_BATCH_JOB_ARRAY_INDEX`, 0-based). Returns the 1-based member and the variable it came from.
public func arrayJobMember(environment env: [String: String]) throws -> (member: Int, source: String)? {
    func integer(_ name: String) throws -> Int? {
        guard let text = env[name] else { return nil }
        guard let v = Int(text.trimmingCharacters(in: .whitespaces)), v >= 0 else {
            throw ValidationErrorText("\(name)=\(quote(text)) is not a job-array index (a whole number ≥ 0)")
        }
        return v
    }
    if let id = try integer("SLURM_ARRAY_TASK_ID") {
        let first = try integer("SLURM_ARRAY_TASK_MIN") ?? 0
        guard id >= first else {
            throw ValidationErrorText("SLURM_ARRAY_TASK_ID=\(id) is below SLURM_ARRAY_TASK_MIN=\(first)")
        }
        return (id - first + 1, "SLURM_ARRAY_TASK_ID=\(id) (array from \(first))")
    }
    if let i = try integer("JOB_COMPLETION_INDEX") { return (i + 1, "JOB_COMPLETION_INDEX=\(i)") }
    if let i = try integer("AWS_BATCH_JOB_ARRAY_INDEX") { return (i + 1, "AWS_BATCH_JOB_ARRAY_INDEX=\(i)") }
    return nil
}
