import Foundation
import LE4Data

/// `contest --slurm`: the same contest as two Slurm jobs, submitted from a login node. A job
/// array trains the members side by side (task K trains member K: the contest reads the array
/// index itself), and a combining job, once every task succeeded, reuses them all and writes the
/// submission. Both run this executable with the command's own options, in the current folder.
struct SlurmSubmission {
    /// The contest's own arguments, without --slurm and --sbatch.
    var contestArguments: [String]
    /// Options for sbatch, given to both jobs (--partition, --time, --mem, --cpus-per-task, ...).
    var sbatchOptions: [String]
    var members: Int
    var answerPath: String
    var work: String

    /// What is given to both jobs unless the user says otherwise: a default (cifar-fast) member
    /// peaks at about 1.6 GB and trains on 2 threads.
    static let defaults = ["--cpus-per-task=2", "--mem=3G"]

    /// The command line without `--slurm` and the `--sbatch` options (spelled `--sbatch X` or
    /// `--sbatch=X`), which must not reach the jobs.
    static func contestArguments(_ arguments: [String]) -> [String] {
        var kept = [String](), skipNext = false
        for a in arguments {
            if skipNext { skipNext = false; continue }
            if a == "--slurm" || a.hasPrefix("--sbatch=") { continue }
            if a == "--sbatch" { skipNext = true; continue }
            kept.append(a)
        }
        return kept
    }

    /// The sbatch options: the user's, then each default the user did not give.
    var options: [String] {
        let named = Set(sbatchOptions.map { $0.split(separator: "=", maxSplits: 1)[0] })
        return sbatchOptions + SlurmSubmission.defaults.filter { !named.contains($0.split(separator: "=", maxSplits: 1)[0]) }
    }

    /// Submits both jobs and prints their ids, how to watch them and where the answer appears.
    func submit() throws {
        let sbatch = try SlurmSubmission.findSbatch()
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let folder = FileManager.default.currentDirectoryPath
        let command = shellQuoted([executable] + contestArguments)
        let common = ["--parsable", "--chdir=\(folder)"] + options
        let array = try SlurmSubmission.run(sbatch, common + [
            "--job-name=le4nn-members", "--array=1-\(members)", "--output=slurm-le4nn-%A_%a.log", "--wrap", "exec " + command,
        ])
        print("submitted the \(members) members as job array \(array) (tasks 1-\(members), side by side); "
            + "their logs: \(folder)/slurm-le4nn-\(array)_K.log")
        // The combining job is no array task, so it trains no single member: it reuses them all.
        let combine = try SlurmSubmission.run(sbatch, common + [
            "--job-name=le4nn-combine", "--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes",
            "--output=slurm-le4nn-%j.log", "--wrap", "exec " + command,
        ])
        print("submitted the combining job \(combine), which starts when every task of \(array) succeeded; "
            + "its log: \(folder)/slurm-le4nn-\(combine).log")
        print("watch them with: squeue -j \(array),\(combine)   (sacct -j \(array),\(combine) once they ended)")
        print("members go to \(work)/; the answer will be \(answerPath), with \((answerPath as NSString).deletingPathExtension).json beside it")
    }

    /// Submits one job and returns its id (`sbatch --parsable` prints "id" or "id;cluster").
    static func run(_ sbatch: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: sbatch)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let id = text.split(separator: "\n").first.map { String($0.split(separator: ";")[0]) } ?? ""
        guard p.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw ValidationErrorText("sbatch refused the job (exit \(p.terminationStatus)): "
                + escaped(problem.trimmingCharacters(in: .whitespacesAndNewlines), limit: 2000))
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
