import Foundation
import LE4Data

/// `contest --slurm`: the same contest as two Slurm jobs, submitted from a login node. A job
/// array trains the members side by side (task K trains member K, named by --only-member), and a
/// combining job, once every task succeeded, reuses them all and writes the submission. Both run
/// this executable with the command's own options, in the current folder.
public struct SlurmSubmission {
    /// The contest's own arguments, without --slurm and --sbatch.
    public var contestArguments: [String]
    /// Options for sbatch, given to both jobs (--partition, --time, --mem, --cpus-per-task, ...).
    var sbatchOptions: [String]
    var members: Int
    var answerPath: String
    var work: String

    public init(contestArguments: [String], sbatchOptions: [String], members: Int, answerPath: String, work: String) {
        (self.contestArguments, self.sbatchOptions, self.members) = (contestArguments, sbatchOptions, members)
        (self.answerPath, self.work) = (answerPath, work)
    }

    /// What both jobs get first, so that the user's own options (given after them, where sbatch
    /// takes the last) win: a default (cifar-fast) member peaks at about 1.6 GB and trains on 2
    /// threads.
    static let defaults = ["--cpus-per-task=2", "--mem=3G"]
    /// sbatch's other ways of asking for memory, which --mem excludes.
    static let memoryOptions: Set<Substring> = ["--mem", "--mem-per-cpu", "--mem-per-gpu"]

    /// The command line without `--slurm` and the `--sbatch` options (spelled `--sbatch X` or
    /// `--sbatch=X`), which must not reach the jobs.
    public static func contestArguments(_ arguments: [String]) -> [String] {
        var kept = [String](), skipNext = false
        for a in arguments {
            if skipNext { skipNext = false; continue }
            if a == "--slurm" || a.hasPrefix("--sbatch=") { continue }
            if a == "--sbatch" { skipNext = true; continue }
            kept.append(a)
        }
        return kept
    }

    /// The sbatch options: the defaults, but --mem when the user asks for memory another way,
    /// then the user's.
    var options: [String] {
        let memory = sbatchOptions.contains { SlurmSubmission.memoryOptions.contains($0.split(separator: "=", maxSplits: 1).first ?? "") }
        return SlurmSubmission.defaults.filter { !(memory && $0.hasPrefix("--mem=")) } + sbatchOptions
    }

    /// Each --sbatch value must be an option (sbatch would take a word as the script to run).
    public static func checkOptions(_ options: [String]) throws {
        if let bad = options.first(where: { !$0.hasPrefix("-") || $0.count < 2 }) {
            throw ValidationErrorText("--sbatch \(quote(bad)) is not an sbatch option: give one per --sbatch, as --sbatch=--time=2:00:00")
        }
    }

    /// Submits both jobs and prints their ids, how to watch them and where the answer appears.
    public func submit() throws {
        let sbatch = try SlurmSubmission.findSbatch()
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let folder = FileManager.default.currentDirectoryPath
        let command = shellQuoted([executable] + contestArguments)
        let common = ["--parsable", "--chdir=\(folder)"] + options
        // Task K names its member itself: an array resubmitted as --array=K alone starts at K.
        let array = try SlurmSubmission.run(sbatch, common + [
            "--job-name=le4nn-members", "--array=1-\(members)", "--output=slurm-le4nn-%A_%a.log",
            "--wrap", "exec \(command) --only-member \"$SLURM_ARRAY_TASK_ID\"",
        ])
        print("submitted the \(members) members as job array \(array) (tasks 1-\(members), side by side); "
            + "their logs: \(folder)/slurm-le4nn-\(array)_K.log")
        // The combining job is no array task, so it trains no single member: it reuses them all.
        let combine: String
        do {
            combine = try SlurmSubmission.run(sbatch, common + [
                "--job-name=le4nn-combine", "--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes",
                "--output=slurm-le4nn-%j.log", "--wrap", "exec " + command,
            ])
        } catch {
            throw ValidationErrorText("\(error); the members' job array \(array) was submitted: cancel it with scancel \(array), "
                + "or let it train and run this command again once it ended")
        }
        print("submitted the combining job \(combine), which starts when every task of \(array) succeeded; "
            + "its log: \(folder)/slurm-le4nn-\(combine).log")
        print("watch them with: squeue -j \(array),\(combine)   (sacct -j \(array),\(combine) once they ended)")
        print("members go to \(work)/; the answer will be \(answerPath), with \((answerPath as NSString).deletingPathExtension).json beside it")
        print("the jobs run \(executable): the nodes must see it at that path. If a task fails, run this command again: "
            + "finished members are reused, the others resume from their checkpoints")
    }

    /// Submits one job and returns its id (`sbatch --parsable` prints "id" or "id;cluster").
    static func run(_ sbatch: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: sbatch)
        p.arguments = arguments
        // One pipe for both streams, read to its end: two pipes read in turn would stop sbatch
        // once the unread one filled up. The id is the line that is only a number ("id;cluster").
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let id = text.split(separator: "\n").compactMap { $0.split(separator: ";").first }
            .last { !$0.isEmpty && $0.allSatisfy(\.isNumber) }.map(String.init) ?? ""
        guard p.terminationStatus == 0, !id.isEmpty else {
            throw ValidationErrorText("sbatch refused the job (exit \(p.terminationStatus)): "
                + escaped(text.trimmingCharacters(in: .whitespacesAndNewlines), limit: 2000))
        }
        return id
    }

    /// sbatch on PATH, or a clear error.
    static func findSbatch() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/sbatch") {
            return "\(dir)/sbatch"
        }
        throw ValidationErrorText("--slurm needs Slurm's sbatch, which is not on PATH: run it on a login node of the cluster "
            + "(Debian: apt-get install slurm-client)")
    }
}
