import Foundation
import LE4Data
import Net

/// What `contest` will do before it does it: for each member, reuse, resume or train (and when a
/// member file of that seed exists with other settings, what differs), and the estimated time.
struct ContestPlan {
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
    static func differences(_ old: TrainSettings, _ new: TrainSettings) -> [String] {
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

    /// The plan as lines for the terminal; `rate`: training images per second measured now.
    func describe(rate: Double, total: Int) -> [String] {
        var lines = [String]()
        for (m, images) in zip(members, imagesToTrain) {
            let s = m.run.settings
            let what: String
            switch m.action {
            case .reuse: what = "reuse \(m.run.out) (finished)"
            case .resume(let done): what = "resume after epoch \(done) of \(s.epochs) from \(m.run.checkpointPath)"
            case .train:
                let net = Network.presetName(of: s.net) ?? s.net
                what = "train \(net), \(s.epochs) epochs, augment \(s.augment)" + (s.ema.map { ", EMA \($0)" } ?? "")
                    + (s.lookahead == true ? ", Lookahead" : "")
            }
            lines.append("  \(m.run.label), seed \(s.seed): \(what)" + (images > 0 ? " — about \(duration(Double(images) / rate))" : ""))
            for (path, diff) in m.others {
                lines.append("      not reused: \(path) (\(diff.isEmpty ? "same settings, other file name" : diff.joined(separator: ", ")))")
            }
        }
        let left = imagesToTrain.reduce(0, +)
        let head = left == 0
            ? "plan: \(members.count) of \(total) members, all finished: nothing to train"
            : String(format: "plan: %d of %d members, %d to train or resume: about %@ at %.0f img/s (measured now on %d threads)",
                     members.count, total, imagesToTrain.filter { $0 > 0 }.count, duration(Double(left) / rate), rate, Threads.count)
        return [head] + lines
    }
}

/// Training images per second of `net`'s spec at `batch`, from a few steps on random inputs
/// (about a second): the estimate behind the contest's plan.
func measuredTrainingRate(spec: String, inputShape: [Int], classes: Int, batch: Int) throws -> Double {
    let net = try Network(spec: spec, inputShape: inputShape, classes: classes, seed: 1)
    let trainer = Trainer(net: net, optimizer: OptimizerConfig(.momentum), smoothing: 0.1)
    var batches = Minibatches(ImageSet.random(count: batch, shape: inputShape, classes: classes, seed: 3))
    let (x, t) = batches.make(0 ..< batch)
    trainer.trainStep(x: x, targets: t, lr: 0.01)  // warm-up: buffers
    let start = Date()
    var steps = 0
    while steps < 3 || Date().timeIntervalSince(start) < 1 {
        trainer.trainStep(x: x, targets: t, lr: 0.01)
        steps += 1
    }
    return Double(steps * batch) / Date().timeIntervalSince(start)
}

/// The member a job of a cluster's job array trains, when `--only-member` is not given: from
/// Slurm (`SLURM_ARRAY_TASK_ID`, counted from `SLURM_ARRAY_TASK_MIN`, default 0), a Kubernetes
/// Indexed Job (`JOB_COMPLETION_INDEX`, 0-based) or an AWS Batch array job
/// (`AWS_BATCH_JOB_ARRAY_INDEX`, 0-based). Returns the 1-based member and the variable it came from.
func arrayJobMember(environment env: [String: String]) throws -> (member: Int, source: String)? {
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
