import Foundation
import XCTest
import LE4Data
import Net
import TestSupport

/// Nothing the user owns is destroyed: every command's inputs and outputs made to collide, files
/// of other kinds and read-only files at output paths, unbounded counts and bad environment
/// settings. Each case ends with a clear error and leaves every file as it was.
extension CommandTests {
    /// The bytes and permissions of a file, to see that a refused command left it alone.
    func snapshot(_ path: String) throws -> (bytes: Foundation.Data, mode: mode_t) {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, path)
        return (try Foundation.Data(contentsOf: URL(fileURLWithPath: path)), st.st_mode & 0o7777)
    }

    func assertUnchanged(_ path: String, _ before: (bytes: Foundation.Data, mode: mode_t), _ why: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let now = try snapshot(path)
        XCTAssertTrue(now.bytes == before.bytes && now.mode == before.mode, "\(path) changed: \(why)", file: file, line: line)
    }

    var dump: String { fixturesDir + "/pickle/dump_f4_3x1x28x28_p4.pkl" }

    /// A copy of the test dump that the test may own, writable.
    func ownDump(_ name: String = "in.dump") throws -> String {
        let path = "\(dir)/\(name)"
        try FileManager.default.copyItem(atPath: dump, toPath: path)
        chmod(path, 0o644)
        return path
    }

    func testAnOutputNeverReplacesAnInputOfTheSameCommandHoweverItIsSpelled() throws {
        let model = try untrainedModel("m")
        let input = try ownDump()
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.dump", withDestinationPath: input)
        XCTAssertEqual(link(input, dir + "/hard.dump"), 0)
        let (dumpBefore, modelBefore) = (try snapshot(input), try snapshot(model))
        // Output named as the input, through a link, a hard link, another spelling; and as the model.
        for (inputName, out) in [(input, input), (dir + "/link.dump", input), (dir + "/hard.dump", input),
                                 (input, dir + "/./in.dump"), (input, model)] {
            let log = try cli(["predict", "--model", model, "--input", inputName, "--out", out, "--force"], expect: 1)
            XCTAssertTrue(log.contains("\(out): is an input of this command; le4nn never replaces a file it reads"), log)
        }
        try assertUnchanged(input, dumpBefore, "predict's --out named its --input")
        try assertUnchanged(model, modelBefore, "predict's --out named its --model")

        // contest --input naming the answer file the contest writes: refused before training.
        try FileManager.default.createDirectory(atPath: dir + "/subs", withIntermediateDirectories: true)
        let answers = dir + "/subs/answer.txt"
        try FileManager.default.copyItem(atPath: input, toPath: answers)
        let before = try snapshot(answers)
        let contest = try cli(["contest", "--data", root, "--quick", "--train-limit", "300", "--work", dir + "/w",
                               "--submissions", dir + "/subs", "--input", answers], expect: 1)
        XCTAssertTrue(contest.contains("\(answers): is an input of this command"), contest)
        XCTAssertFalse(contest.contains("member 1/2"), "refused before training: \(contest)")
        try assertUnchanged(answers, before, "contest's answer file was its --input")

        // misclassified writes no image over a model it reads.
        let sheet = dir + "/wrong/sheet.png"
        try FileManager.default.createDirectory(atPath: dir + "/wrong", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: model, toPath: sheet)
        let wrong = try cli(["misclassified", "--data", root, "--model", sheet, "--out", dir + "/wrong", "--force"], expect: 1)
        XCTAssertTrue(wrong.contains("\(sheet): is an input of this command"), wrong)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/wrong"), ["sheet.png"], "no image written")
    }

    func testNoCommandWritesOverTheDatasetItReadsEvenWithForce() throws {
        // A copy of MNIST the test owns: were the rule broken, the real data would be gone.
        let data = dir + "/data", mnist = data + "/mnist"
        try FileManager.default.createDirectory(atPath: mnist, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/mnist") where name.hasSuffix("-ubyte.gz") {
            try FileManager.default.copyItem(atPath: root + "/mnist/" + name, toPath: mnist + "/" + name)
        }
        let labels = mnist + "/t10k-labels-idx1-ubyte.gz", before = try snapshot(labels)
        for args in [["train", "--data", data, "--net", "mlp", "--epochs", "1", "--train-limit", "100", "--out", labels, "--force"],
                     ["augment-preview", "--data", data, "--augment", "crop", "--count", "2", "--rows", "1", "--out", labels, "--force"]] {
            let log = try cli(args, expect: 1)
            XCTAssertTrue(log.contains("t10k-labels-idx1-ubyte.gz: is an input of this command"), log)
            try assertUnchanged(labels, before, args[0])
        }
    }

    func testAnOutputReplacesOnlyAFileOfItsOwnKindUnlessForced() throws {
        let model = try untrainedModel("m"), other = try untrainedModel("other")
        // IDX labels, an answer file, notes and a PNG that le4nn did not write.
        let labels = dir + "/labels.gz"
        try FileManager.default.copyItem(atPath: root + "/mnist/t10k-labels-idx1-ubyte.gz", toPath: labels)
        chmod(labels, 0o644)
        let answers = dir + "/answer.txt", notes = dir + "/notes.txt", photo = dir + "/photo.png"
        try "3\n1\n4\n".write(toFile: answers, atomically: false, encoding: .utf8)
        try "my notes\n".write(toFile: notes, atomically: false, encoding: .utf8)
        var png = try PNG.encode(Bitmap(width: 2, height: 2, channels: 1))
        png.removeSubrange(33 ..< 33 + 26)  // le4nn's tEXt chunk, as another program would write it
        try Foundation.Data(png).write(to: URL(fileURLWithPath: photo))
        let originals = try [labels, answers, notes, photo, model].map { ($0, try snapshot($0)) }
        let train = ["train", "--data", root, "--net", "mlp", "--epochs", "1", "--train-limit", "300", "--validation", "0", "--out"]
        let refusals: [([String], String)] = [
            (train + [labels], "\(labels): is a file le4nn did not write, not an le4nn model or checkpoint: le4nn does not replace it without --force"),
            (train + [answers], "\(answers): is an answer file (one class per line), not an le4nn model"),
            (["predict", "--model", other, "--input", dump, "--out", model], "\(model): is an le4nn model or checkpoint, not an answer file"),
            (["predict", "--model", other, "--input", dump, "--out", notes], "\(notes): is a file le4nn did not write, not an answer file"),
            (["augment-preview", "--data", root, "--augment", "crop", "--count", "2", "--rows", "1", "--out", photo],
             "\(photo): is a file le4nn did not write, not a PNG written by le4nn"),
        ]
        for (args, message) in refusals {
            let log = try cli(args, expect: 1)
            XCTAssertTrue(log.contains(message) && log.contains("give --force"), "\(args.last ?? ""): \(log)")
            XCTAssertFalse(log.contains("training "), "refused before training: \(log)")
        }
        for (path, before) in originals { try assertUnchanged(path, before, "a refused command replaced it") }

        // Its own kind is replaced as before; with --force, another kind too.
        try cli(["predict", "--model", other, "--input", dump, "--out", answers])
        XCTAssertEqual(try lines(answers).count, 3)
        try cli(["predict", "--model", other, "--input", dump, "--out", notes, "--force"])
        XCTAssertEqual(try lines(notes).count, 3)
        try cli(["augment-preview", "--data", root, "--augment", "crop", "--count", "2", "--rows", "1", "--out", photo, "--force"])
        try cli(["augment-preview", "--data", root, "--augment", "crop", "--count", "2", "--rows", "1", "--out", photo])
        try cli(train + [labels, "--force"])
        XCTAssertNoThrow(try ModelFile.load(labels))
    }

    func testAReadOnlyFileIsNeverReplacedAndAReplacedFileKeepsItsPermissions() throws {
        let model = try untrainedModel("m"), answers = dir + "/answer.txt"
        try cli(["predict", "--model", model, "--input", dump, "--out", answers])
        for path in [answers, model] { chmod(path, 0o444) }
        let before = try [answers, model].map { try snapshot($0) }
        let predict = try cli(["predict", "--model", try untrainedModel("n"), "--input", dump, "--out", answers, "--force"], expect: 1)
        XCTAssertTrue(predict.contains("\(answers): is read-only; le4nn never replaces a read-only file"), predict)
        let train = try cli(["train", "--data", root, "--net", "mlp", "--epochs", "1", "--train-limit", "300", "--out", model,
                             "--fresh", "--force"], expect: 1)
        XCTAssertTrue(train.contains("\(model): is read-only"), train)
        XCTAssertFalse(train.contains("training "), "refused before training: \(train)")
        try assertUnchanged(answers, before[0], "read-only answer file")
        try assertUnchanged(model, before[1], "read-only model")

        chmod(answers, 0o600)
        try cli(["predict", "--model", model, "--input", dump, "--out", answers])
        XCTAssertEqual(try snapshot(answers).mode, 0o600, "the replaced file keeps its permissions")
    }

    func testEveryCountIsBoundedBeforeAnyWorkAndLeavesNoLock() throws {
        let out = dir + "/e.npz"
        let train = ["train", "--data", root, "--net", "mlp", "--train-limit", "300", "--out", out]
        let cases: [([String], String)] = [
            (train + ["--epochs", "2000000000000000000"], "--epochs must be 1 to 10000, got 2000000000000000000"),
            (train + ["--epochs", "-1"], "--epochs must be 1 to 10000, got -1"),
            (train + ["--batch", "1000000"], "--batch must be 1 to 65536, got 1000000"),
            (train + ["--stop-after", "0"], "--stop-after must be 1 to 10000, got 0"),
            (["contest", "--data", root, "--members", "1000000", "--work", dir + "/w", "--submissions", dir + "/s"],
             "--members must be 1 to 100, got 1000000"),
            (["bench", "--net", "mlp", "--seconds", "1e300"], "--seconds must be 0.1 to 3600"),
            (["bench", "--net", "mlp", "--batch", "100000"], "--batch must be 1 to 65536, got 100000"),
            (train + ["--epochs", "1", "--net", "conv8x29-fc10"], "filter 29×29 is larger than its input [1, 28, 28]"),
            (train + ["--epochs", "1", "--net", "fc10-"], "layer 2 is empty"),
        ]
        for (args, message) in cases {
            let start = Date()
            let (status, log) = try runProcess(le4nn, args)
            XCTAssertTrue((1 ... 127).contains(status) && log.contains(message), "\(args): \(status) \(log)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 10, "refused at once: \(args)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no lock, model or folder left behind")
    }

    func testEnvironmentSettingsAreCheckedLikeOptionsAndTheThreadsReportedAreTheThreadsUsed() throws {
        let bench = ["bench", "--net", "mlp", "--seconds", "0.1"]
        for (name, value, message) in [("LE4NN_THREADS", "abc", "is not a thread count"), ("LE4NN_THREADS", "0", "is not a thread count"),
                                       ("LE4NN_THREADS", "-1", "is not a thread count"), ("LE4NN_THREADS", "2.5", "is not a thread count"),
                                       ("LE4NN_THREADS", "10000", "from 1 to 1024"), ("SLURM_CPUS_PER_TASK", "x", "is not a thread count"),
                                       ("LE4NN_ISA", "bogus", "give one of " + ISA.allCases.map(\.name).joined(separator: ", ")),
                                       ("LE4NN_WINOGRAD", "7", "give one of 2, 3, 4, 5, 6")] {
            let (status, log) = try runProcess(le4nn, bench, environment: [name: value])
            XCTAssertEqual(status, 1, log)
            XCTAssertTrue(log.contains("\(name)='\(value)'") && log.contains(message), log)
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let (status, log) = try runProcess(le4nn, bench, environment: ["LE4NN_THREADS": "\(cores + 6)"])
        XCTAssertEqual(status, 0, log)
        XCTAssertTrue(log.contains("LE4NN_THREADS=\(cores + 6) asks for more threads than the \(cores) cores: using \(cores)"), log)
        XCTAssertTrue(log.contains("threads \(cores),"), "the threads used are reported: \(log)")
        XCTAssertTrue(try runProcess(le4nn, ["bench", "--help"], environment: ["LE4NN_ISA": "bogus"]).output.contains("USAGE"),
                      "help works whatever the environment says")
    }

    func testQuickModeHonoursAnExplicitMemberCountAndEpochsAndSaysSo() throws {
        let log = try cli(["contest", "--data", root, "--quick", "--members", "3", "--epochs", "1", "--train-limit", "300",
                           "--work", dir + "/w", "--submissions", dir + "/s"])
        XCTAssertTrue(log.contains("quick mode: 3 members for 1 epochs (--members 3, --epochs 1 as given)"), log)
        XCTAssertTrue(log.contains("ensemble of 3:"), log)
        let models = try FileManager.default.contentsOfDirectory(atPath: dir + "/w")
            .filter { $0.range(of: #"^member-\d+-[0-9a-f]{8}\.npz$"#, options: .regularExpression) != nil }
        XCTAssertEqual(models.count, 3, "\(models)")
        for m in models { XCTAssertTrue(try ModelFile.load(dir + "/w/" + m).meta.contains("\"epochsDone\":1"), m) }
    }

    func testEmptyNamesAndImpossiblePathsAreRefusedAndAFailedRunRemovesTheFoldersItMade() throws {
        let train = ["train", "--data", root, "--net", "mlp", "--epochs", "1", "--train-limit", "300"]
        let empty = try cli(train + ["--out", ""], expect: 1)
        XCTAssertTrue(empty.contains("an output file name is empty"), empty)
        XCTAssertFalse(empty.contains("training "), "refused before training: \(empty)")
        for name in ["", ".hidden", "a/b"] {
            let log = try cli(["contest", "--data", root, "--quick", "--name", name, "--work", dir + "/w", "--submissions", dir + "/s"], expect: 1)
            XCTAssertTrue(log.contains("is not a submission name"), log)
        }
        let deep = dir + "/new/" + Array(repeating: String(repeating: "d", count: 200), count: 21).joined(separator: "/") + "/m.npz"
        let long = try cli(train + ["--out", deep], expect: 1)
        XCTAssertTrue(long.contains("the path is \(deep.utf8.count) bytes long; the system takes at most 4095"), long)
        // A contest that fails before training (its input is missing) removes the folders it made.
        let failed = try cli(["contest", "--data", root, "--quick", "--work", dir + "/new/w", "--submissions", dir + "/new/s",
                              "--input", dir + "/missing.dump"], expect: 1)
        XCTAssertTrue(failed.contains("\(dir)/missing.dump: cannot open"), failed)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no folder left behind")
    }

    func testResumingAFinishedRunRemovesTheCheckpointAKilledRunLeftBehind() throws {
        // A run killed while it removed its checkpoint: the model is finished, the checkpoint still there.
        let out = try trainSmall("k", extra: ["--keep-checkpoint"])
        let checkpoint = dir + "/k.checkpoint.npz"
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
        let log = try cli(["train", "--data", root, "--dataset", "mnist", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "1",
                           "--train-limit", "2000", "--validation", "500", "--seed", "1", "--out", out, "--resume"])
        XCTAssertTrue(log.contains("holds this run finished"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint), "the finished run's checkpoint is removed")
    }

    func testALockPathHoldingSomeonesFileIsRefusedAndKept() throws {
        let out = dir + "/l.npz"
        try "my file\n".write(toFile: out + ".lock", atomically: false, encoding: .utf8)
        let before = try snapshot(out + ".lock")
        let log = try cli(["train", "--data", root, "--net", "mlp", "--epochs", "1", "--train-limit", "300", "--out", out], expect: 1)
        XCTAssertTrue(log.contains("\(out).lock: is not an le4nn lock file"), log)
        try assertUnchanged(out + ".lock", before, "someone's file at the lock path")
    }
}
