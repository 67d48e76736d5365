import Foundation
import XCTest
import TestSupport

/// A one-node Slurm cluster (Debian's slurm-wlm and munge) started for one test from a config in
/// a temporary folder, and stopped by the PIDs it started. Only loopback ports are used.
final class SlurmCluster {
    let folder: String
    var environment: [String: String] { ["SLURM_CONF": folder + "/slurm.conf"] }
    private var pidFiles: [String] = []

    /// Starts munged, slurmctld and slurmd; skips the test where Slurm is not installed, or fails
    /// it instead under LE4NN_REQUIRE_SLURM=1 (as CI sets it).
    init(folder: String) throws {
        self.folder = folder
        let tools = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"]
        let missing = tools.first(where: { !FileManager.default.isExecutableFile(atPath: $0) })
        if missing != nil || getuid() != 0 {
            let message = missing.map { "Slurm is not installed (no \($0); apt-get install slurm-wlm munge)" }
                ?? "the test cluster's daemons run as root, and this test does not"
            if ProcessInfo.processInfo.environment["LE4NN_REQUIRE_SLURM"] == "1" { XCTFail(message + " but LE4NN_REQUIRE_SLURM=1") }
            throw XCTSkip(message)
        }
        let host = try SlurmCluster.run("/bin/hostname", ["-s"]).trimmingCharacters(in: .whitespacesAndNewlines)
        for sub in ["state", "spool", "munge"] { try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true) }
        let key = folder + "/munge/munge.key"
        try Foundation.Data((0 ..< 1024).map { _ in UInt8.random(in: 0 ... 255) }).write(to: URL(fileURLWithPath: key))
        chmod(key, 0o400)
        // Ports of this process's own, so that two test runs never meet.
        let port = 20000 + Int(getpid()) % 20000
        try """
        ClusterName=le4nn-test
        SlurmctldHost=\(host)
        SlurmUser=root
        SlurmdUser=root
        AuthType=auth/munge
        AuthInfo=socket=\(folder)/munge/sock
        CredType=cred/munge
        SlurmctldPort=\(port)
        SlurmdPort=\(port + 1)
        StateSaveLocation=\(folder)/state
        SlurmdSpoolDir=\(folder)/spool
        SlurmctldPidFile=\(folder)/slurmctld.pid
        SlurmdPidFile=\(folder)/slurmd.pid
        SlurmctldLogFile=\(folder)/slurmctld.log
        SlurmdLogFile=\(folder)/slurmd.log
        ProctrackType=proctrack/linuxproc
        TaskPlugin=task/none
        SelectType=select/cons_tres
        SelectTypeParameters=CR_Core
        JobAcctGatherType=jobacct_gather/none
        AccountingStorageType=accounting_storage/none
        JobCompType=jobcomp/filetxt
        JobCompLoc=\(folder)/jobcomp.txt
        MpiDefault=none
        ReturnToService=2
        NodeName=\(host) CPUs=2 RealMemory=4000 State=UNKNOWN
        PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP

        """.write(toFile: folder + "/slurm.conf", atomically: true, encoding: .utf8)
        do {
            try startDaemons(key: key)
        } catch {
            stop()  // whatever did start
            throw error
        }
    }

    private func startDaemons(key: String) throws {
        pidFiles.append(folder + "/munge/pid")
        try SlurmCluster.startDaemon("/usr/sbin/munged", ["--force", "--socket=\(folder)/munge/sock", "--key-file=\(key)",
                                                  "--pid-file=\(folder)/munge/pid", "--log-file=\(folder)/munge/log",
                                                  "--seed-file=\(folder)/munge/seed"])
        pidFiles.append(folder + "/slurmctld.pid")
        try SlurmCluster.startDaemon("/usr/sbin/slurmctld", ["-f", folder + "/slurm.conf"], environment: environment)
        pidFiles.append(folder + "/slurmd.pid")
        try SlurmCluster.startDaemon("/usr/sbin/slurmd", ["-f", folder + "/slurm.conf"], environment: environment)
        let ready = Date()
        while try !SlurmCluster.run("/usr/bin/sinfo", ["-h", "-o", "%t"], environment: environment).contains("idle") {
            guard Date().timeIntervalSince(ready) < 30 else { throw NSError(domain: "slurm", code: 1, userInfo: [NSLocalizedDescriptionKey: "the test cluster did not come up in 30 s; its logs are in \(folder)"]) }
            usleep(200_000)
        }
    }

    /// Stops every daemon this started, by the PID it wrote, and waits until each is gone.
    func stop() {
        for file in pidFiles.reversed() {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                  let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            kill(pid, SIGTERM)
            for _ in 0 ..< 100 where kill(pid, 0) == 0 { usleep(100_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
    }

    /// Submits a job with `sbatch --parsable` and returns its id (the output line that is only a
    /// number: warnings may come before it).
    func submit(_ arguments: [String], environment extra: [String: String]) throws -> String {
        let out = try command("sbatch", ["--parsable"] + arguments, environment: extra)
        let id = out.split(separator: "\n").last { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
        guard let id else { throw NSError(domain: "slurm", code: 1, userInfo: [NSLocalizedDescriptionKey: "sbatch printed no job id: \(out)"]) }
        return String(id)
    }

    /// Runs a Slurm command against this cluster and returns its output; throws when it fails.
    @discardableResult
    func command(_ tool: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> String {
        try SlurmCluster.run("/usr/bin/" + tool, arguments, environment: environment.merging(extra) { $1 })
    }

    /// Each finished job's fields (JobState, StartTime, EndTime, ...) by "job_task" ("12_1"), from
    /// the completion log.
    func finishedJobs() -> [String: [String: String]] {
        let text = (try? String(contentsOfFile: folder + "/jobcomp.txt", encoding: .utf8)) ?? ""
        var jobs = [String: [String: String]]()
        for line in text.split(separator: "\n") {
            let fields = Dictionary(line.split(separator: " ").compactMap { f -> (String, String)? in
                let kv = f.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { $1 })
            guard let job = fields["ArrayJobId"] ?? fields["JobId"] else { continue }
            jobs["\(job)_\(fields["ArrayTaskId"] ?? "0")"] = fields
        }
        return jobs
    }

    /// The final state of each finished job, by "job_task".
    func finalStates() -> [String: String] { finishedJobs().compactMapValues { $0["JobState"] } }

    /// Waits until no job is queued or running, at most `seconds`.
    func waitUntilIdle(seconds: Double) throws {
        let start = Date()
        while !(try command("squeue", ["-h"])).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard Date().timeIntervalSince(start) < seconds else {
                XCTFail("jobs still queued after \(Int(seconds)) s: \(try command("squeue", []))")
                return
            }
            usleep(500_000)
        }
    }

    /// Starts a daemon that forks into the background and waits for the parent to exit. It uses
    /// posix_spawn and waitpid, not Foundation's Process, whose exit watch never ends while the
    /// forked daemon lives on; its output goes to /dev/null, which the daemon may keep open.
    static func startDaemon(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv: [UnsafeMutablePointer<CChar>?] = ([tool] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0)=\($1)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0 ... 2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, tool, &actions, nil, argv, envp)
        var status: Int32 = 0
        guard spawned == 0, waitpid(pid, &status, 0) == pid, status == 0 else {
            throw NSError(domain: "slurm", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments) did not start (spawn \(spawned), wait status \(status))"])
        }
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let (status, out) = try runProcess(tool, arguments, environment: environment)
        guard status == 0 else { throw NSError(domain: "slurm", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments): \(out)"]) }
        return out
    }
}

/// The contest on a real (one-node) Slurm cluster: the shipped sbatch script and `contest --slurm`.
final class SlurmTests: XCTestCase {
    let le4nn = le4nnExecutable
    var cluster: SlurmCluster?
    var root = "", dir = ""

    override func setUpWithError() throws {
        root = try requireDataRoot()
        dir = temporaryDirectory("le4nn-slurm")
        let c = try SlurmCluster(folder: dir + "/cluster")
        cluster = c
        addTeardownBlock { c.stop() }
    }

    func testTheShippedScriptTrainsArrayMembersSideBySideAndACancelledTaskResumes() throws {
        let c = try XCTUnwrap(cluster)
        let env = ["LE4NN": le4nn, "LE4NN_DATA": root, "LE4NN_WORK": dir + "/work",
                   "LE4NN_CONTEST_OPTIONS": "--quick --net conv8-bn-relu-pool-fc32-relu-fc10 --train-limit 500 --submissions \(dir)/sub"]
        let script = repositoryDir + "/docs/contest-slurm.sbatch"
        let common = ["--export=ALL", "--chdir=\(dir)", "--mem=1G", "--cpus-per-task=1"]
        let array = try c.submit(common + ["--array=1-2", script], environment: env)
        let combine = try c.submit(common + ["--dependency=afterok:\(array)", "--array=0", "--export=ALL,LE4NN_COMBINE=1", script],
                                   environment: env)
        try c.waitUntilIdle(seconds: 300)
        let states = c.finalStates()
        XCTAssertEqual(states["\(array)_1"], "COMPLETED", "\(states)")
        XCTAssertEqual(states["\(array)_2"], "COMPLETED", "\(states)")
        XCTAssertEqual(states["\(combine)_0"], "COMPLETED", "\(states)")
        // Side by side: the second task started before the first ended (ISO times sort as text).
        let jobs = c.finishedJobs()
        let (start2, end1) = (jobs["\(array)_2"]?["StartTime"] ?? "", jobs["\(array)_1"]?["EndTime"] ?? "")
        XCTAssertTrue(!start2.isEmpty && start2 < end1, "task 2 started \(start2), task 1 ended \(end1)")
        let logs = try (1 ... 2).map { try String(contentsOfFile: "\(dir)/slurm-le4nn-\(array)_\($0).log", encoding: .utf8) }
        for (k, log) in logs.enumerated() {
            XCTAssertTrue(log.contains("trained member \(k + 1) of 2"), log)
            XCTAssertEqual(log.components(separatedBy: "] training ").count - 1, 1, "the task trained its member once: \(log)")
        }
        let combined = try String(contentsOfFile: "\(dir)/slurm-le4nn-\(combine)_0.log", encoding: .utf8)
        XCTAssertFalse(combined.contains("] training "), "the combining job trains nothing: \(combined)")
        XCTAssertTrue(combined.contains("ensemble of 2: MNIST test accuracy"), combined)
        XCTAssertEqual(try lines(dir + "/sub/answer.txt").count, 10000)

        // Task 2, cancelled after its first epoch and resubmitted alone (the array then starts at
        // 2), trains member 2 again and resumes it from its checkpoint.
        var slow = env
        slow["LE4NN_WORK"] = dir + "/work-slow"
        slow["LE4NN_CONTEST_OPTIONS"] = "--quick --members 2 --epochs 8 --train-limit 6000"
        let first = try c.submit(common + ["--array=2", script], environment: slow)
        let start = Date()
        func checkpointed() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/work-slow")) ?? []).contains { $0.hasSuffix(".checkpoint.npz") }
        }
        while !checkpointed() && Date().timeIntervalSince(start) < 120 { usleep(200_000) }
        try c.command("scancel", [first])
        try c.waitUntilIdle(seconds: 60)
        let cancelled = c.finalStates()
        XCTAssertEqual(cancelled["\(first)_2"], "CANCELLED", "\(cancelled)")
        let second = try c.submit(common + ["--array=2", script], environment: slow)
        try c.waitUntilIdle(seconds: 300)
        XCTAssertEqual(c.finalStates()["\(second)_2"], "COMPLETED")
        let resumed = try String(contentsOfFile: "\(dir)/slurm-le4nn-\(second)_2.log", encoding: .utf8)
        XCTAssertTrue(resumed.contains("resuming from \(dir)/work-slow/member-2-") && resumed.contains("trained member 2 of 2"), resumed)
        XCTAssertFalse(resumed.contains("epoch 1/8  loss"), "epoch 1 is not trained again: \(resumed)")
    }

    func testContestSlurmSubmitsTheArrayAndTheCombiningJobAndPrintsTheirIds() throws {
        let c = try XCTUnwrap(cluster)
        let (status, out) = try runProcess(le4nn, [
            "contest", "--slurm", "--sbatch=--mem=1G", "--sbatch", "--cpus-per-task=1", "--data", root, "--quick",
            "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "500", "--work", "work", "--submissions", "sub",
        ], environment: c.environment, directory: dir)
        XCTAssertEqual(status, 0, out)
        // "submitted the 2 members as job array 7 (...)" and "submitted the combining job 8, ..."
        func id(after phrase: String) -> String? {
            out.components(separatedBy: phrase).dropFirst().first?.prefix(while: \.isNumber).description
        }
        let array = try XCTUnwrap(id(after: "as job array "), out), combine = try XCTUnwrap(id(after: "the combining job "), out)
        XCTAssertTrue(out.contains("squeue -j \(array),\(combine)") && out.contains("the answer will be sub/answer.txt")
            && out.contains("/le4nn: the nodes must see it at that path"), out)
        XCTAssertFalse(out.contains("] training "), "the login node trains nothing: \(out)")
        try c.waitUntilIdle(seconds: 300)
        let states = c.finalStates()
        for job in ["\(array)_1", "\(array)_2", "\(combine)_0"] { XCTAssertEqual(states[job], "COMPLETED", "\(job): \(states)") }
        let combined = try String(contentsOfFile: "\(dir)/slurm-le4nn-\(combine).log", encoding: .utf8)
        XCTAssertTrue(combined.contains("reusing") && combined.contains("ensemble of 2: MNIST test accuracy"), combined)
        XCTAssertEqual(try lines(dir + "/sub/answer.txt").count, 10000)
    }
}
