import Foundation
import XCTest
import LE4Data
import Net
@testable import Contest
import TestSupport

/// The `le4nn` commands end to end, on real MNIST with small subsets and few epochs.
final class CommandTests: XCTestCase {
    /// The executable built beside the test bundle.
    let le4nn = le4nnExecutable
    var root = ""
    var dir = ""

    override func setUpWithError() throws {
        root = try requireDataRoot()
        dir = temporaryDirectory("le4nn-cli")
        guard FileManager.default.isExecutableFile(atPath: le4nn) else { throw XCTSkip("no le4nn executable at \(le4nn)") }
    }

    @discardableResult
    func cli(_ args: [String], expect status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (s, out) = try runProcess(le4nn, args)
        XCTAssertEqual(s, status, "le4nn \(args.joined(separator: " ")) printed:\n\(out)", file: file, line: line)
        return out
    }

    /// A small model: 2,000 training images, 500 held out.
    func trainSmall(_ name: String, seed: Int = 1, epochs: Int = 1, extra: [String] = []) throws -> String {
        let out = "\(dir)/\(name).npz"
        try cli(["train", "--data", root, "--dataset", "mnist", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "\(epochs)",
                 "--train-limit", "2000", "--validation", "500", "--seed", "\(seed)", "--out", out] + extra)
        return out
    }

    func testTrainWritesModelHistoryAndPlotResumesAndRemovesTheCheckpointOfTheFinishedRun() throws {
        let out = "\(dir)/r.npz"
        let args = ["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "2", "--train-limit", "1000",
                    "--validation", "300", "--augment", "crop,cutout", "--out", out]
        let first = try cli(args + ["--stop-after", "1"])
        XCTAssertTrue(first.contains("stopped after epoch 1 of 2"), first)
        XCTAssertEqual(try lines("\(dir)/r.history.csv").count, 2, "header and one epoch")
        let second = try cli(args + ["--resume"])
        XCTAssertTrue(second.contains("resuming from \(dir)/r.checkpoint.npz after epoch 1"), second)
        XCTAssertFalse(second.contains("epoch 1/2  loss"), "epoch 1 is not trained again")
        XCTAssertTrue(second.contains("epoch 2/2  loss"), second)
        XCTAssertEqual(try lines("\(dir)/r.history.csv").count, 3)
        let plot = try PNG.read("\(dir)/r.history.png")
        XCTAssertGreaterThan(plot.width, 100)
        let model = try ModelFile.load(out)
        XCTAssertTrue(model.meta.contains("\"augment\":\"crop:pad=2:mode=zero,cutout:size=8:fill=zero\""), model.meta)
        XCTAssertTrue(model.meta.contains("\"epochsDone\":2"), model.meta)
        XCTAssertEqual(second.split(separator: "\n").last.map(String.init),
                       "wrote model \(out), history \(dir)/r.history.csv, plot \(dir)/r.history.png", "the last line names the files")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/r.checkpoint.npz"), "a finished run leaves no checkpoint")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(out).lock"), "nor its lock file")

        // The model file records the finished run: --resume says so, and without it the run is not silently redone.
        let finished = try cli(args + ["--resume"])
        XCTAssertTrue(finished.contains("\(out) holds this run finished: 2 of 2 epochs, best epoch"), finished)
        XCTAssertFalse(finished.contains("epoch 1/2") || finished.contains("epoch 2/2"), "nothing is trained: \(finished)")
        let again = try cli(args, expect: 1)
        XCTAssertTrue(again.contains("\(out) holds a finished run (2 of 2 epochs done): start over with --fresh"), again)
        let longer = try cli(args + ["--epochs", "3", "--resume"], expect: 1)
        XCTAssertTrue(longer.contains("holds a finished run with other settings (epochs 2 → 3)"), longer)
        XCTAssertEqual(try ModelFile.load(out).network.params.map(\.value), model.network.params.map(\.value), "the model is untouched")

        // inspect summarises the model; --arrays lists its arrays.
        let summary = try cli(["inspect", out])
        for part in ["\(out): le4nn model, ", "net: conv8-bn-relu-pool-fc32-relu-fc10", "1×28×28 input, 10 classes, ",
                     "dataset: mnist, first 1000 training images, 300 held out", "augmentation: crop:pad=2:mode=zero,cutout",
                     "EMA: none", "epochs: 2 of 2 done", "best epoch: "] {
            XCTAssertTrue(summary.contains(part), "\(part) in:\n\(summary)")
        }
        XCTAssertFalse(summary.contains("0.conv8.W"), "no raw arrays without --arrays: \(summary)")
        let parameters = model.network.parameterCount
        XCTAssertTrue(summary.contains(" \(parameters) parameters"), summary)
        XCTAssertTrue(try cli(["inspect", "--arrays", out]).contains("0.conv8.W [8, 9] <f4"))
    }

    func testWithLookaheadAResumedRunEqualsTheUninterruptedOne() throws {
        // 12 steps an epoch: the checkpoint after epoch 1 falls between two updates of the slow copy.
        func args(_ name: String) -> [String] {
            ["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "2", "--train-limit", "950",
             "--batch", "80", "--validation", "300", "--lookahead", "--out", "\(dir)/\(name).npz"]
        }
        let whole = try cli(args("whole"))
        XCTAssertTrue(whole.contains("lookahead, "), whole)
        try cli(args("parts") + ["--stop-after", "1"])
        XCTAssertNotNil(try ModelFile.load("\(dir)/parts.checkpoint.npz").lookahead)
        try cli(args("parts") + ["--resume"])
        let (a, b) = (try ModelFile.load("\(dir)/whole.npz"), try ModelFile.load("\(dir)/parts.npz"))
        XCTAssertEqual((a.network.params + a.network.buffers).map(\.value), (b.network.params + b.network.buffers).map(\.value))
        XCTAssertTrue(a.meta.contains("\"lookahead\":true"), a.meta)
    }

    func testWithEMAAResumedRunEqualsTheUninterruptedOneAndSavesTheAverage() throws {
        // BN after the convolution and after fc32, so the recomputed statistics are compared too; dropout and crop as in real runs.
        func args(_ name: String) -> [String] {
            ["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-bn-relu-drop0.3-fc10", "--epochs", "2", "--train-limit", "1000",
             "--validation", "300", "--augment", "crop", "--ema", "0.99", "--keep-checkpoint", "--out", "\(dir)/\(name).npz"]
        }
        try cli(args("whole"))
        try cli(args("parts") + ["--stop-after", "1"])
        let resumed = try cli(args("parts") + ["--resume"])
        XCTAssertTrue(resumed.contains("resuming from") && resumed.contains("weight average 0.99"), resumed)
        let whole = try ModelFile.load("\(dir)/whole.npz"), parts = try ModelFile.load("\(dir)/parts.npz")
        XCTAssertEqual((whole.network.params + whole.network.buffers).map(\.value), (parts.network.params + parts.network.buffers).map(\.value),
                       "the same averaged weights and BN statistics")
        let wholeCheckpoint = try ModelFile.load("\(dir)/whole.checkpoint.npz"), partsCheckpoint = try ModelFile.load("\(dir)/parts.checkpoint.npz")
        XCTAssertEqual(wholeCheckpoint.average?.updates, 20)
        XCTAssertEqual(wholeCheckpoint.average?.updates, partsCheckpoint.average?.updates)
        XCTAssertEqual(wholeCheckpoint.average?.values, partsCheckpoint.average?.values)
        XCTAssertEqual(wholeCheckpoint.network.params.map(\.value), partsCheckpoint.network.params.map(\.value))
        XCTAssertNotEqual(whole.network.params.map(\.value), wholeCheckpoint.network.params.map(\.value),
                          "the model file holds the average, not the trained weights")
        XCTAssertTrue(whole.meta.contains("\"ema\":0.99"), whole.meta)
        // Validation loss and accuracy per epoch (columns 4 and 5) agree too.
        func validation(_ name: String) throws -> [String] {
            try lines("\(dir)/\(name).history.csv").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[3 ... 4].joined(separator: ",") }
        }
        XCTAssertEqual(try validation("whole"), try validation("parts"))
        XCTAssertEqual(try validation("whole").count, 2)
    }

    func testCifarFastTrainsWithItsRecipeUnlessAnOptionOverridesIt() throws {
        guard (try? Dataset.cifar10.folder(root: root)) != nil else { throw XCTSkip("no CIFAR-10 under \(root)") }
        // One step of 300 images: the recipe's batch of 1024 takes them all.
        let base = ["train", "--data", root, "--dataset", "cifar10", "--net", "cifar-fast", "--train-limit", "300", "--epochs", "1",
                    "--validation", "100"]
        let recipe = try cli(base + ["--out", dir + "/recipe.npz"])
        XCTAssertTrue(recipe.contains("nesterov lr 1.5 triangle:start=0.2:peak=0.23:end=0.07, batch 1024, BN bias lr ×64.0, BN biases decay, "
                                      + "augment crop:pad=2:mode=reflect,flip:p=0.5:mode=alternate, smoothing 0.2"), recipe)
        let model = try ModelFile.load(dir + "/recipe.npz")
        XCTAssertTrue(model.meta.contains("\"initializer\":\"uniform\"") && model.meta.contains("\"beta1\":0.85"), model.meta)
        XCTAssertTrue(model.network.buffers.contains { $0.name == "0.whiten.W" && $0.value.contains { $0 != 0 } }, "fitted and saved")
        let mine = try cli(base + ["--batch", "256", "--optimizer", "momentum", "--no-bn-bias-decay", "--augment", "crop:pad=2,flip",
                                   "--out", dir + "/mine.npz"])
        XCTAssertTrue(mine.contains("momentum lr 0.375 triangle:start=0.2:peak=0.23:end=0.07, batch 256, BN bias lr ×64.0, "
                                    + "augment crop:pad=2:mode=zero,flip:p=0.5:mode=random, smoothing 0.2"), mine)
        // On digits the recipe has no flip (rather than refusing its own default), a mild affine and a lower rate.
        let digits = try cli(["train", "--data", root, "--dataset", "mnist", "--net", "cifar-fast", "--train-limit", "300",
                              "--epochs", "1", "--validation", "100", "--out", dir + "/digits.npz"])
        XCTAssertTrue(digits.contains("nesterov lr 1.0 triangle:start=0.2:peak=0.23:end=0.07, batch 1024, BN bias lr ×64.0, BN biases decay, "
                                      + "augment affine:rotate=10.0:scale=0.1:shear=0.1:shift=0.0,crop:pad=2:mode=reflect, smoothing 0.2"), digits)
    }

    func testSameSeedSameModel() throws {
        let a = try ModelFile.load(try trainSmall("a", seed: 5)).network
        let b = try ModelFile.load(try trainSmall("b", seed: 5)).network
        XCTAssertEqual(a.params.map(\.value), b.params.map(\.value))
    }

    func testEvaluateEnsemblePredictMisclassifiedAndClassify() throws {
        let a = try trainSmall("m1", seed: 1), b = try trainSmall("m2", seed: 2)
        let report = try cli(["evaluate", "--data", root, "--model", a, "--model", b, "--tta"])
        func percent(_ prefix: String) -> Double? {
            report.split(separator: "\n").first { $0.hasPrefix(prefix) }
                .flatMap { $0.split(separator: ":").last }.flatMap { Double($0.trimmingCharacters(in: .whitespaces).dropLast()) }
        }
        let m1 = percent("member \(a):"), m2 = percent("member \(b):")
        let ensemble = report.split(separator: "\n").first { $0.hasPrefix("ensemble of 2 on mnist test: accuracy") }
            .flatMap { $0.split(separator: " ")[7].dropLast() }.flatMap { Double($0) }
        XCTAssertNotNil(m1, report); XCTAssertNotNil(ensemble, report)
        XCTAssertGreaterThanOrEqual(ensemble ?? 0, min(m1 ?? 100, m2 ?? 100), "an ensemble is at least as good as its weaker member")
        XCTAssertGreaterThan(ensemble ?? 0, 60, "even one epoch on 2,000 images learns digits")
        XCTAssertTrue(report.contains("with TTA"), report)
        XCTAssertTrue(report.contains("confusion matrix"), report)

        // predict: a contest dump and an IDX file, one digit per line.
        let answers = "\(dir)/answers.txt"
        for tta in [[], ["--tta"]] {
            try cli(["predict", "--model", a, "--input", fixturesDir + "/pickle/dump_f4_3x1x28x28_p4.pkl", "--out", answers] + tta)
            let l = try lines(answers)
            XCTAssertEqual(l.count, 3, "\(tta)")
            XCTAssertTrue(l.allSatisfy { $0.count == 1 && $0.first!.isNumber }, "\(tta) \(l)")
        }
        let predicted = try cli(["predict", "--model", a, "--input", root + "/mnist/t10k-images-idx3-ubyte.gz", "--out", answers])
        XCTAssertEqual(try lines(answers).count, 10000)
        // The histogram printed is that of the file: ten classes adding up to its lines.
        let histogram = try XCTUnwrap(predicted.split(separator: "\n").first { $0.hasPrefix("  classes: ") }, predicted)
        let counts = histogram.dropFirst(11).split(separator: " ").compactMap { Int($0.split(separator: "=")[1]) }
        XCTAssertEqual(counts.count, 10, predicted)
        XCTAssertEqual(counts.reduce(0, +), 10000, predicted)
        XCTAssertEqual(counts[7], try lines(answers).filter { $0 == "7" }.count, predicted)
        let checked = try cli(["inspect", answers])
        XCTAssertTrue(checked.contains("\(answers): answer file, 10000 lines of one digit each: a complete contest answer"), checked)
        XCTAssertTrue(checked.contains(String(histogram)), "inspect counts as predict did: \(checked)")

        let wrong = "\(dir)/wrong"
        let w = try cli(["misclassified", "--data", root, "--model", a, "--out", wrong])
        let total = try XCTUnwrap(w.split(separator: "\n").first { $0.contains("images misclassified (") }
            .flatMap { Int($0.split(separator: " ")[0]) }, w)
        XCTAssertGreaterThan(total, 100, "one epoch on 2,000 images makes more mistakes than the default --top: \(w)")
        XCTAssertTrue(w.contains("wrote the 100 most confident (--top all writes every one) to \(wrong): "), w)
        let csv = try lines(wrong + "/index.csv").dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(csv.count, 100)
        let confidence = csv.compactMap { Double($0[4]) }
        XCTAssertEqual(confidence, confidence.sorted(by: >), "most confident first")
        XCTAssertEqual(csv.map { $0[5] }, csv.map { "\($0[1])_\($0[2]).png" }, "named as export names them: <index>_<true class>.png")
        let pngs = try FileManager.default.contentsOfDirectory(atPath: wrong).filter { $0.hasSuffix(".png") && $0 != "sheet.png" }
        XCTAssertEqual(Set(pngs), Set(csv.map { $0[5] }), w)
        let sheet = try PNG.read(wrong + "/sheet.png")
        XCTAssertLessThan(max(sheet.width, sheet.height), 2000, "a sheet a screen shows whole: \(sheet.width)×\(sheet.height)")
        let top3 = try cli(["misclassified", "--data", root, "--model", a, "--top", "3", "--out", dir + "/wrong3"])
        XCTAssertTrue(top3.contains("\(total) of 10000 mnist test images misclassified") && top3.contains("the 3 most confident"), top3)
        XCTAssertEqual(try lines(dir + "/wrong3/index.csv").dropFirst().map { $0.split(separator: ",")[1] }, csv.prefix(3).map { Substring($0[1]) },
                       "the same ranking")

        // The digit alone on standard output; details go to standard error (both are captured here).
        let classified = try cli(["classify", "--data", root, "--model", a, "--index", "0"]).split(separator: "\n")
        XCTAssertTrue(classified.contains("7") && classified.contains { $0.hasPrefix("image 0: predicted 7") }, "\(classified)")
        let untrained = try cli(["classify", "--data", root, "--index", "5"]).split(separator: "\n")
        XCTAssertTrue(untrained.contains { $0.count == 1 && $0.first!.isNumber }, "the untrained course net answers too: \(untrained)")
    }

    func testContestQuickModeWritesTheSubmissionAndReusesMembers() throws {
        let args = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "1000",
                    "--validation", "0", "--work", dir + "/work", "--submissions", dir + "/subs", "--name", "t"]
        let first = try cli(args)
        XCTAssertTrue(first.contains("ensemble of 2: MNIST test accuracy"), first)
        XCTAssertEqual(try lines(dir + "/subs/t.txt").count, 10000)
        let sidecar = try sidecarJSON("t")
        XCTAssertEqual((sidecar?["members"] as? [Any])?.count, 2)
        XCTAssertNil(sidecar?["semi_supervised"] ?? sidecar?["batch_norm_adaptation"], "the test images are the training writers'")
        let again = try cli(args + ["--input", fixturesDir + "/pickle/dump_u1_3x784_p2.pkl"])
        XCTAssertEqual(again.components(separatedBy: "reusing").count - 1, 2, again)
        XCTAssertEqual(try lines(dir + "/subs/t.txt").count, 3, "answers the dump: one line per image")
        let answered = try sidecarJSON("t")
        XCTAssertNotNil(answered?["semi_supervised"], "other images: semi-supervised learning by default")
        XCTAssertNotNil(answered?["batch_norm_adaptation"], "and BN adaptation")
        let withTTA = try cli(args + ["--tta"])
        XCTAssertTrue(withTTA.contains("ensemble of 2: MNIST test accuracy") && withTTA.contains("% with TTA"), withTTA)
        let ttaSidecar = try sidecarJSON("t")
        XCTAssertEqual(ttaSidecar?["test_time_augmentation"] as? String, "one-pixel shifts")

        // A member with changed bytes is refused by name, neither reused nor trained over.
        let member = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir + "/work")
            .filter { $0.hasPrefix("member-") && !$0.contains(".checkpoint") && $0.hasSuffix(".npz") }.sorted().first)
        var bytes = try FileIO.read(dir + "/work/" + member)
        bytes.replaceSubrange(bytes.count / 2 ..< bytes.count / 2 + 2000, with: [UInt8](repeating: 0x41, count: 2000))
        try FileIO.writeAtomically(bytes, to: dir + "/work/" + member, as: .model)
        let damaged = try cli(args, expect: 1)
        XCTAssertTrue(damaged.contains("\(dir)/work/\(member): member ") && damaged.contains("is damaged"), damaged)
        XCTAssertFalse(damaged.contains("reusing") || damaged.contains("] training "), damaged)
    }

    /// The options of a quick contest that answers the three images of a dump fixture, after a
    /// first run with them (named plain, neither learning from them nor adapting) has trained its members.
    func quickContestOnThreeImages() throws -> [String] {
        let args = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "1000",
                    "--work", dir + "/work", "--submissions", dir + "/subs", "--input", fixturesDir + "/pickle/dump_f4_3x1x28x28_p4.pkl"]
        try cli(args + ["--name", "plain", "--no-semi-supervised", "--no-adapt-bn"])
        return args
    }

    /// The bytes of the member files in the work folder, by name.
    func memberFiles() throws -> [[UInt8]] {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/work").filter { $0.hasSuffix(".npz") }.sorted()
            .map { try FileIO.read(dir + "/work/" + $0) }
    }

    /// The sidecar JSON of submission `name`.
    func sidecarJSON(_ name: String) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Foundation.Data(contentsOf: URL(fileURLWithPath: "\(dir)/subs/\(name).json"))) as? [String: Any]
    }

    func testContestAdaptBNAnswersFromTheImagesAloneTheSameEachTimeAndRecordsIt() throws {
        let args = try quickContestOnThreeImages(), before = try memberFiles()
        let alone = ["--adapt-bn", "--no-semi-supervised"]
        let first = try cli(args + ["--name", "a"] + alone), second = try cli(args + ["--name", "b"] + alone)
        XCTAssertTrue(first.contains("BN adaptation: each member's batch-norm statistics re-estimated on the 3 images answered"), first)
        XCTAssertEqual(second.components(separatedBy: "reusing").count - 1, 2, second)
        XCTAssertEqual(try lines(dir + "/subs/a.txt"), try lines(dir + "/subs/b.txt"), "same members, same images: same answers")
        XCTAssertEqual(try lines(dir + "/subs/a.txt").count, 3)
        XCTAssertEqual(try sidecarJSON("a")?["batch_norm_adaptation"] as? String, "statistics re-estimated on the 3 images answered")
        XCTAssertNil(try sidecarJSON("plain")?["batch_norm_adaptation"])
        XCTAssertEqual(try memberFiles(), before, "the member files stay as trained")
    }

    func testTrainWithSAMSaysSoAndRecordsTheRadius() throws {
        let out = dir + "/sam.npz"
        let said = try cli(["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "1", "--train-limit", "300",
                            "--validation", "100", "--sam", "0.05", "--out", out])
        XCTAssertTrue(said.contains("SAM ρ 0.05, seed 1"), said)
        XCTAssertEqual(try XCTUnwrap(try TrainRecord.read(out)).settings.sam, 0.05)

        let contest = try cli(["contest", "--data", root, "--quick", "--members", "1", "--net", "conv8-bn-relu-pool-fc32-relu-fc10",
                               "--train-limit", "300", "--sam", "0.05", "--work", dir + "/work", "--submissions", dir + "/subs", "--name", "s"])
        XCTAssertTrue(contest.contains(", SAM ρ 0.05 — about "), "the plan names SAM: \(contest)")
        let member = try XCTUnwrap((try sidecarJSON("s")?["members"] as? [[String: String]])?.first)
        XCTAssertEqual(member["sam"], "0.05", "the sidecar records the member's SAM radius")
    }

    func testContestSemiSupervisedAnswersTheSameEachTimeRecordsItAndKeepsTheMemberFiles() throws {
        let args = try quickContestOnThreeImages(), before = try memberFiles()
        let semi = ["--semi-supervised", "--pseudo-rounds", "2", "--pseudo-epochs", "1"]
        let first = try cli(args + ["--name", "a"] + semi), second = try cli(args + ["--name", "b"] + semi)
        XCTAssertTrue(first.contains("semi-supervised round 2/2: "), first)
        XCTAssertTrue(first.contains("after semi-supervised learning: ensemble of 2: "), first)
        XCTAssertEqual(try lines(dir + "/subs/a.txt"), try lines(dir + "/subs/b.txt"), "same members, same images, same seed: same answers")
        let recorded = try XCTUnwrap(try sidecarJSON("a")?["semi_supervised"] as? [String: Any])
        XCTAssertEqual(recorded["rounds"] as? Int, 2)
        XCTAssertEqual((recorded["pseudo_labelled"] as? [Int])?.count, 2, "one count a round")
        XCTAssertEqual(try memberFiles(), before, "the member files stay as trained")
        let stray = try cli(args + ["--name", "c", "--no-semi-supervised", "--pseudo-rounds", "2"], expect: 1)
        XCTAssertTrue(stray.contains("--pseudo-rounds is a setting of --semi-supervised, which is off (--no-semi-supervised)"), stray)
    }

    func testDistortWritesASeededStandInAndInspectScoresAnswersAgainstItsLabels() throws {
        let (a, b, c) = (dir + "/a", dir + "/b", dir + "/c")
        let said = try cli(["distort", "--data", root, "--out", a])
        XCTAssertTrue(said.contains("wrote \(a)-images-idx3-ubyte (10000 MNIST test images distorted by stroke:amount=1.0,affine:"), said)
        try cli(["distort", "--data", root, "--out", b])
        try cli(["distort", "--data", root, "--out", c, "--seed", "8"])
        let test = try Dataset.mnist.load(root: root, train: false)
        let images = try IDX.readImages(a + "-images-idx3-ubyte"), labels = try IDX.readLabels(a + "-labels-idx1-ubyte")
        XCTAssertEqual(labels, test.labels)
        XCTAssertEqual(images.count, 10000)
        XCTAssertNotEqual(images.pixels, test.pixels, "the images are redrawn")
        XCTAssertEqual(try FileIO.read(b + "-images-idx3-ubyte"), try FileIO.read(a + "-images-idx3-ubyte"), "the same seed redraws them alike")
        XCTAssertNotEqual(try FileIO.read(c + "-images-idx3-ubyte"), try FileIO.read(a + "-images-idx3-ubyte"))

        try FileIO.writeAtomically(labels.map { "\($0)\n" }.joined(), to: dir + "/right.txt", as: .answers)
        let scored = try cli(["inspect", dir + "/right.txt", "--labels", a + "-labels-idx1-ubyte"])
        XCTAssertTrue(scored.contains("scored against \(a)-labels-idx1-ubyte: accuracy 100.00% (10000/10000)"), scored)
        try FileIO.writeAtomically("1\n2\n3\n", to: dir + "/short.txt", as: .answers)
        let short = try cli(["inspect", dir + "/short.txt", "--labels", a + "-labels-idx1-ubyte"], expect: 1)
        XCTAssertTrue(short.contains("holds 10000 labels for an answer file of 3 lines"), short)
    }

    func testContestOnFashionMNISTTrainsAndScoresFashionMembers() throws {
        let args = ["contest", "--data", root, "--dataset", "fashion", "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10",
                    "--train-limit", "500", "--work", dir + "/work", "--submissions", dir + "/subs", "--name", "f"]
        let out = try cli(args + ["--tta"])
        XCTAssertTrue(out.contains("member 1: Fashion-MNIST test accuracy") && out.contains("ensemble of 2: Fashion-MNIST test accuracy"), out)
        XCTAssertTrue(out.contains("as a submission for the Fashion-MNIST test images it scores"), out)
        XCTAssertEqual(try lines(dir + "/subs/f.txt").count, 10000)
        let sidecar = try sidecarJSON("f")
        XCTAssertNotNil(sidecar?["ensemble_fashion_test_accuracy"], "\(String(describing: sidecar))")
        XCTAssertEqual(sidecar?["test_time_augmentation"] as? String, "mirror and one-pixel moves")
        let member = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir + "/work")
            .first { $0.hasPrefix("member-1-") && $0.hasSuffix(".npz") && !$0.contains(".checkpoint") })
        XCTAssertTrue(try ModelFile.load(dir + "/work/" + member).meta.contains("\"dataset\":\"fashion\""))
        // Digits' members are other members: the same options on MNIST train anew.
        let digits = try cli(args.filter { $0 != "fashion" && $0 != "--dataset" })
        XCTAssertFalse(digits.contains("reusing"), digits)
        // Images to answer must have the dataset's shape: 28×28 digits are not CIFAR-10 images.
        let wrong = try cli(["contest", "--data", root, "--dataset", "cifar10", "--quick", "--input",
                             fixturesDir + "/pickle/dump_f4_3x1x28x28_p4.pkl", "--work", dir + "/work", "--submissions", dir + "/subs"],
                            expect: 1)
        XCTAssertTrue(wrong.contains("the images to answer must be 3×32×32 like CIFAR-10's, found 1×28×28"), wrong)
    }

    func testContestPrintsItsPlanAndTakesTheMemberFromAJobArray() throws {
        let args = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "500",
                    "--validation", "0", "--work", dir + "/work", "--submissions", dir + "/subs"]
        // A Kubernetes Indexed Job's pod 1 trains member 2 and nothing else.
        let (status, pod) = try runProcess(le4nn, args, environment: ProcessInfo.processInfo.environment.merging(["JOB_COMPLETION_INDEX": "1"]) { $1 })
        XCTAssertEqual(status, 0, pod)
        XCTAssertTrue(pod.contains("member 2 of 2, from JOB_COMPLETION_INDEX=1"), pod)
        XCTAssertTrue(pod.contains("plan: 1 of 2 members, 1 to train or resume: about"), pod)
        XCTAssertTrue(pod.contains("trained member 2 of 2"), pod)
        let models = try FileManager.default.contentsOfDirectory(atPath: dir + "/work")
            .filter { $0.hasPrefix("member-") && $0.hasSuffix(".npz") && !$0.contains("checkpoint") }
        XCTAssertTrue(models.count == 1 && models[0].hasPrefix("member-2-"), "\(models)")
        // Member 2 with a smaller crop: the first file is not reused, and the plan says why.
        let changed = try cli(args + ["--augment", "crop:pad=1", "--only-member", "2"])
        XCTAssertTrue(changed.contains("not reused: \(dir)/work/member-2-") && changed.contains("(augment crop:pad=2"), changed)
        let again = try cli(args + ["--augment", "crop:pad=1", "--only-member", "2"])
        XCTAssertTrue(again.contains("plan: 1 of 2 members, all finished: nothing to train"), again)
        // A model of the same settings under another name (say one `train` wrote): the plan names
        // the member's file, and renamed to it the model is reused.
        let member = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir + "/work").map { dir + "/work/" + $0 }
            .first { try $0.hasSuffix(".npz") && !$0.contains("checkpoint") && ModelFile.load($0).meta.contains("crop:pad=1:") })
        let byHand = dir + "/work/member-2-trained-by-hand.npz"
        try FileManager.default.moveItem(atPath: member, toPath: byHand)
        let renamed = try cli(args + ["--augment", "crop:pad=1", "--only-member", "2"])
        XCTAssertTrue(renamed.contains("not reused: \(byHand) (same settings, other file name: rename it to \(member) and it is reused)"), renamed)
        try FileManager.default.removeItem(atPath: member)
        try FileManager.default.moveItem(atPath: byHand, toPath: member)
        let reused = try cli(args + ["--augment", "crop:pad=1", "--only-member", "2"])
        XCTAssertTrue(reused.contains("plan: 1 of 2 members, all finished: nothing to train"), reused)
    }

    func testContestPlanMeasuresEachNetOfItsMembers() throws {
        // Two nets of different cost: the plan gives each its own measured speed.
        let out = try cli(["contest", "--data", root, "--quick", "--nets", "conv4-relu-pool-fc10;conv16-relu-conv16-relu-pool-fc10",
                           "--train-limit", "200", "--work", dir + "/work", "--submissions", dir + "/subs"])
        XCTAssertTrue(out.contains("plan: 2 of 2 members, 2 to train or resume: about"), out)
        XCTAssertTrue(out.contains(" img/s (the net of member 1/2, batch 100), "), out)
        XCTAssertTrue(out.contains(" img/s (the net of member 2/2, batch 100) (measured now on"), out)
    }

    func testDefaultContestMembersAreThreeCifarFastWithTheRecipeForDigits() throws {
        // Member 3 of the default 3 on 100 images for one epoch: the plan names the net, the
        // recipe's digit augmentation (a mild affine, no flip) and Lookahead.
        let out = try cli(["contest", "--data", root, "--only-member", "3",
                           "--train-limit", "100", "--epochs", "1", "--work", dir + "/work", "--submissions", dir + "/subs"])
        XCTAssertTrue(out.contains("plan: 1 of 3 members, 1 to train or resume"), out)
        XCTAssertTrue(out.contains("member 3/3, seed 3: train cifar-fast, 1 epochs, "
            + "augment affine:rotate=10.0:scale=0.1:shear=0.1:shift=0.0,crop:pad=2:mode=reflect, Lookahead"), out)
        XCTAssertTrue(out.contains("trained member 3 of 3"), out)
    }

    func testContestMembersWithEMAAreOtherMembersAndHoldTheAverage() throws {
        let args = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "1000",
                    "--only-member", "1", "--work", dir + "/work", "--submissions", dir + "/subs"]
        try cli(args)
        try cli(args + ["--ema", "0.99"])
        let members = try FileManager.default.contentsOfDirectory(atPath: dir + "/work")
            .filter { $0.hasPrefix("member-") && $0.hasSuffix(".npz") && !$0.contains(".checkpoint") }
        XCTAssertEqual(members.count, 2, "the decay is part of a member's identity: \(members)")
        let withEMA = try members.filter { try ModelFile.load(dir + "/work/" + $0).meta.contains("\"ema\":0.99") }
        XCTAssertEqual(withEMA.count, 1, "\(members)")
        // The average does not change training: the member without it holds the trained weights.
        let model = try ModelFile.load(dir + "/work/" + XCTUnwrap(withEMA.first))
        let trained = try ModelFile.load(dir + "/work/" + XCTUnwrap(members.first { !withEMA.contains($0) }))
        XCTAssertNotEqual(model.network.params.map(\.value), trained.network.params.map(\.value),
                          "the member is the weight average, not the trained weights")
    }

    func testTrainRefusesAnOutThatIsNotARegularFile() throws {
        let fifo = dir + "/pipe.npz"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let out = try cli(["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "1", "--train-limit", "200",
                           "--validation", "100", "--out", fifo], expect: 1)
        XCTAssertTrue(out.contains("\(fifo): is a FIFO"), out)
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO named by --out is still a FIFO")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["pipe.npz"], "nothing is written beside it")
    }

    func testADivergedRunStopsWithAnErrorAndSavesNoModel() throws {
        let out = dir + "/diverged.npz"
        let log = try cli(["train", "--data", root, "--net", "mnist-small", "--epochs", "2", "--train-limit", "2000",
                           "--validation", "500", "--lr", "1000", "--out", out], expect: 1)
        XCTAssertTrue(log.contains("training diverged in epoch 1: array '0.conv32.W' is no longer finite"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no model from a diverged epoch")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/diverged.checkpoint.npz"))

        // Good in epoch 1, diverged in epoch 2 (the rate grows 100,000-fold): epoch 1 is kept.
        let kept = dir + "/kept.npz"
        let second = try cli(["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "2", "--train-limit", "2000",
                              "--validation", "500", "--lr", "0.01", "--schedule", "step:every=1:gamma=100000", "--out", kept], expect: 1)
        XCTAssertTrue(second.contains("training diverged in epoch 2") && second.contains("kept.checkpoint.npz holds epoch 1"), second)
        for path in [kept, dir + "/kept.checkpoint.npz"] {
            let model = try ModelFile.load(path)
            XCTAssertTrue(model.meta.contains("\"epochsDone\":1"), model.meta)
            XCTAssertTrue(model.network.params.allSatisfy { $0.value.allSatisfy(\.isFinite) }, path)
        }
    }

    func testEvaluateOnDistortedImagesIsSeededAdaptsBNAndRefusesMixup() throws {
        let a = try trainSmall("d")
        func accuracyLine(_ extra: [String]) throws -> String {
            let out = try cli(["evaluate", "--data", root, "--model", a] + extra)
            return try XCTUnwrap(out.split(separator: "\n").first { $0.contains("accuracy") }.map(String.init), out)
        }
        let plain = try accuracyLine([]), thick = try accuracyLine(["--distort", "stroke:amount=1"])
        XCTAssertTrue(thick.contains("mnist test distorted: accuracy"), thick)
        XCTAssertNotEqual(plain.replacingOccurrences(of: " distorted", with: ""), thick.replacingOccurrences(of: " distorted", with: ""),
                          "full-strength strokes change some answers")
        XCTAssertEqual(try accuracyLine(["--distort", "stroke:amount=1"]), thick, "the same seed distorts the same way")
        let adapted = try cli(["evaluate", "--data", root, "--model", a, "--distort", "stroke:amount=1", "--adapt-bn"])
        XCTAssertTrue(adapted.contains(thick) && adapted.contains("mnist test distorted with BN adapted: accuracy"),
                      "first as it is, then with BN adapted: \(adapted)")
        let mixup = try cli(["evaluate", "--data", root, "--model", a, "--distort", "mixup"], expect: 1)
        XCTAssertTrue(mixup.contains("--distort needs augmentations that change images, not labels"), mixup)
    }

    func testEvaluateRefusesAModelWithNonFiniteWeightsNamingTheArray() throws {
        let net = try Network(spec: "conv8-bn-relu-pool-fc32-relu-fc10", inputShape: [1, 28, 28], classes: 10, seed: 1)
        net.params[0].value[3] = .nan
        let path = dir + "/nan.npz"
        try ModelFile.save(net, meta: "{}", to: path)
        let out = try cli(["evaluate", "--data", root, "--model", path], expect: 1)
        XCTAssertTrue(out.contains("\(path): array '\(net.params[0].name)' holds values that are not finite"), out)
    }

    func testUnwritableOutputsAreRefusedBeforeTraining() throws {
        let folder = try cli(["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "1",
                              "--train-limit", "200", "--validation", "100", "--out", dir], expect: 1)
        XCTAssertTrue(folder.contains("\(dir): is a folder"), folder)
        XCTAssertFalse(folder.contains("epoch 1/1"), "refused before training: \(folder)")

        // A disk that takes no more bytes: the file size limit set to 0 (SIGXFSZ ignored, so writes fail with EFBIG).
        let command = (["trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"", le4nn, "contest", "--data", root, "--quick",
                        "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "200", "--work", dir + "/w",
                        "--submissions", dir + "/subs"])
        let (status, full) = try runProcess("/bin/sh", ["-c"] + command)
        XCTAssertEqual(status, 1, full)
        XCTAssertTrue(full.contains("\(dir)/subs/answer.txt: write failed"), full)
        XCTAssertFalse(full.contains("member 1/2"), "refused before training: \(full)")
    }

    func testHostileTextInOptionsAndModelFilesGivesShortInertErrors() throws {
        let longNet = String(repeating: "conv8-", count: 20000) + "fcx10"
        let net = try cli(["train", "--data", root, "--net", longNet, "--out", dir + "/x.npz"], expect: 1)
        XCTAssertTrue(net.contains("is not a network"), String(net.prefix(500)))
        XCTAssertLessThan(net.utf8.count, 1000, String(net.prefix(500)))

        // Net's error repeats a model file's architecture whole: the message is still escaped and bounded.
        let arch = String(repeating: "\u{1B}[2J", count: 30000)
        try NPZ.write([("arch", NPYArray(arch)), ("input_shape", NPYArray(shape: [3], values: .int64([1, 28, 28]))),
                       ("classes", NPYArray(shape: [1], values: .int64([10])))], to: dir + "/evil.npz", as: .model)
        let model = try cli(["evaluate", "--data", root, "--model", dir + "/evil.npz"], expect: 1)
        XCTAssertTrue(model.contains("\(dir)/evil.npz: its architecture"), String(model.prefix(500)))
        XCTAssertLessThan(model.utf8.count, 30000, String(model.prefix(500)))
        XCTAssertFalse(model.unicodeScalars.contains("\u{1B}"), "no terminal escape reaches the terminal")
    }

    func testContestChecksEveryMembersFilesBeforeTrainingAny() throws {
        let args = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "500",
                    "--work", dir + "/work", "--submissions", dir + "/subs"]
        try cli(args)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/work")
        let one = try XCTUnwrap(files.first { $0.hasPrefix("member-1-") && $0.hasSuffix(".history.png") }).dropLast(12)
        let two = try XCTUnwrap(files.first { $0.hasPrefix("member-2-") && $0.hasSuffix(".history.png") }).dropLast(12)
        XCTAssertFalse(files.contains { $0.hasSuffix(".checkpoint.npz") }, "finished members leave no checkpoint: \(files)")
        try FileManager.default.removeItem(atPath: "\(dir)/work/\(one).npz")
        let plot = "\(dir)/work/\(two).history.png"
        try FileManager.default.removeItem(atPath: plot)
        try FileManager.default.createDirectory(atPath: plot, withIntermediateDirectories: true)
        let log = try cli(args, expect: 1)
        XCTAssertTrue(log.contains("\(plot): is a folder"), log)
        XCTAssertFalse(log.contains("] training"), "member 1 is not trained before member 2's problem is found: \(log)")
    }

    func testASecondTrainOnTheSameOutIsRefusedWhileTheFirstHoldsIt() throws {
        let out = dir + "/shared.npz"
        let held = try XCTUnwrap(try OutputLock.take(out, wait: false), "this test takes the lock as a first run would")
        let second = try cli(["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "1",
                              "--train-limit", "200", "--validation", "100", "--out", out], expect: 1)
        XCTAssertTrue(second.contains("\(out): another le4nn run is writing it"), second)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), second)
        withExtendedLifetime(held) {}
    }

    /// A waiting holder whose lock file was removed by the holder before takes the new one, so
    /// two holders never hold different files of the same path at once.
    func testALockWaitedForIsTheFileAtItsPathAfterTheHolderBeforeRemovedIt() throws {
        let out = dir + "/lock-chain.npz"
        var first: OutputLock? = try XCTUnwrap(try OutputLock.take(out, wait: false))
        let taken = expectation(description: "the waiting thread takes the lock")
        let box = LockBox()
        Thread.detachNewThread {
            box.lock = try? OutputLock.take(out, wait: true)
            taken.fulfill()
        }
        Thread.sleep(forTimeInterval: 0.2)  // the thread is now waiting on the first file
        first = nil
        wait(for: [taken], timeout: 10)
        XCTAssertNil(first)
        XCTAssertNotNil(box.lock)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + ".lock"), "the second holder's file is at the path")
        XCTAssertNil(try OutputLock.take(out, wait: false), "and it is held")
        box.lock = nil
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".lock"), "removed when let go")
    }

    /// Runs le4nn with `args`, sends it SIGINT (Ctrl-C) once its output contains `marker`, and
    /// returns the ended process and all it printed.
    func interrupt(_ args: [String], after marker: String) throws -> (process: Process, log: String) {
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: le4nn)
        p.arguments = args
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        var log = ""
        while !log.contains(marker) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        kill(p.processIdentifier, SIGINT)
        log += String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "ends by itself, not killed by the signal: \(log)")
        XCTAssertEqual(p.terminationStatus, 130, log)
        return (p, log)
    }

    func testCtrlCStopsTrainSayingWhichEpochIsKeptAndHowToContinue() throws {
        let out = dir + "/stopped.npz"
        let args = ["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "50",
                    "--train-limit", "2000", "--validation", "500", "--out", out]
        let (_, log) = try interrupt(args, after: "epoch 1/50  loss")
        let said = try XCTUnwrap(log.split(separator: "\n").first { $0.hasPrefix("interrupted after epoch ") }, log)
        XCTAssertTrue(said.hasSuffix("of 50; continue with: le4nn " + args.joined(separator: " ") + " --resume"), String(said))
        let epoch = said.split(separator: " ")[3]
        XCTAssertTrue(try ModelFile.load(dir + "/stopped.checkpoint.npz").meta.contains("\"epochsDone\":\(epoch),"),
                      "the checkpoint holds the epoch the message names")
    }

    func testCtrlCStopsContestNamingTheMemberAndEpochAndTheSameCommandContinues() throws {
        let args = ["contest", "--data", root, "--members", "2", "--epochs", "50", "--net", "conv8-bn-relu-pool-fc32-relu-fc10",
                    "--train-limit", "2000", "--work", dir + "/work", "--submissions", dir + "/subs"]
        let (_, log) = try interrupt(args, after: "[member 1/2] epoch 1/50  loss")
        let said = try XCTUnwrap(log.split(separator: "\n").first { $0.hasPrefix("interrupted: member 1/2 stopped after epoch ") }, log)
        let epoch = said.split(separator: " ")[6]
        XCTAssertTrue(said.contains(" of 50, which \(dir)/work/member-1-") && said.hasSuffix(".checkpoint.npz keeps"), String(said))
        XCTAssertTrue(log.contains("run the same command again to continue (finished members are reused, unfinished ones resume "
                                   + "from their checkpoints): le4nn " + args.joined(separator: " ")), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/subs/answer.txt"), "no submission from an interrupted contest")

        // The same command resumes member 1 after that epoch.
        let (_, again) = try interrupt(args, after: "resuming from")
        XCTAssertTrue(again.contains("member 1/2, seed 1: resume after epoch \(epoch) of 50 from \(dir)/work/member-1-"), again)
        XCTAssertTrue(again.contains("[member 1/2] resuming from \(dir)/work/member-1-") && again.contains(".checkpoint.npz after epoch \(epoch)"), again)
        XCTAssertTrue(again.contains("interrupted: member 1/2 stopped after epoch "), again)
    }

    func testTrainRefusesToStartOverAnEarlierRunUnlessResumeOrFresh() throws {
        let args = ["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "2", "--train-limit", "500",
                    "--validation", "100", "--out", dir + "/again.npz"]
        try cli(args + ["--stop-after", "1"])
        let refused = try cli(args, expect: 1)
        XCTAssertTrue(refused.contains("\(dir)/again.checkpoint.npz holds an earlier run with this --out: continue it with --resume, "
                                       + "or start over with --fresh"), refused)
        XCTAssertFalse(refused.contains("epoch 1/2"), refused)
        let fresh = try cli(args + ["--fresh"])
        XCTAssertTrue(fresh.contains("epoch 1/2  loss") && !fresh.contains("resuming"), "starts over: \(fresh)")
    }

    func testTwoContestsSharingWorkTrainEachMemberOnce() throws {
        func start(_ name: String) throws -> (Process, Pipe) {
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: le4nn)
            p.arguments = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "1000",
                           "--work", dir + "/work", "--submissions", dir + "/subs", "--name", name]
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            return (p, pipe)
        }
        let runs = [try start("a"), try start("b")]
        let logs = runs.map { p, pipe -> String in
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, text)
            return text
        }
        let trained = logs.joined().components(separatedBy: "] training ").count - 1
        XCTAssertEqual(trained, 2, "two members, each trained by one run:\n\(logs.joined(separator: "\n----\n"))")
    }

    func testArrayTasksTrainTheirMembersSideBySideAndNeverTakeTheAnswerFilesLock() throws {
        // Another run holds the answer file's lock (a contest combining the members, say).
        let subs = dir + "/subs"
        try FileManager.default.createDirectory(atPath: subs, withIntermediateDirectories: true)
        let held = try XCTUnwrap(try OutputLock.take(subs + "/answer.txt", wait: false))
        let args = ["contest", "--data", root, "--quick", "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--train-limit", "500",
                    "--work", dir + "/work", "--submissions", subs]
        // Two tasks of one Slurm array, at the same time.
        let tasks = try (1 ... 2).map { k -> (Process, Pipe) in
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: le4nn)
            p.arguments = args
            p.environment = ProcessInfo.processInfo.environment.merging(
                ["SLURM_ARRAY_TASK_ID": "\(k + 6)", "SLURM_ARRAY_TASK_MIN": "7", "SLURM_CPUS_PER_TASK": "1"]) { $1 }
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            return (p, pipe)
        }
        for (k, (p, pipe)) in tasks.enumerated() {
            let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, log)
            XCTAssertTrue(log.contains("trained member \(k + 1) of 2"), log)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: subs), ["answer.txt.lock"], "no task wrote the submission")
        let combine = try cli(args, expect: 1)
        XCTAssertTrue(combine.contains("\(subs)/answer.txt: another contest run is writing it"), combine)
        withExtendedLifetime(held) {}
    }

    /// An untrained model file, written without training: for commands whose answers do not matter.
    /// With `trainedOn`, its record names that dataset, as a trained model's does.
    func untrainedModel(_ name: String, trainedOn dataset: Dataset? = nil) throws -> String {
        let net = try Network(spec: "conv8-bn-relu-pool-fc32-relu-fc10", inputShape: [1, 28, 28], classes: 10, seed: 1)
        let path = "\(dir)/\(name).npz"
        let record = try dataset.map { d in
            TrainRecord(settings: try TrainRequest().setup(dataset: d).settings, epochsDone: 0, bestEpoch: 0,
                        bestValidationAccuracy: nil, history: [], seconds: 0, threads: 1)
        }
        try ModelFile.save(net, meta: try record.map(json) ?? "{}", to: path)
        return path
    }

    func testEveryCommandWritingAFileCreatesItsFolder() throws {
        let model = try untrainedModel("u")
        let answers = "\(dir)/new/answers/p.txt"
        try cli(["predict", "--model", model, "--input", fixturesDir + "/pickle/dump_f4_3x1x28x28_p4.pkl", "--out", answers])
        XCTAssertEqual(try lines(answers).count, 3)
        let preview = "\(dir)/new/preview/a.png"
        try cli(["augment-preview", "--data", root, "--augment", "crop", "--count", "2", "--rows", "1", "--out", preview])
        XCTAssertGreaterThan(try PNG.read(preview).width, 0)
    }

    func testModelsRunOnTheDatasetTheyWereTrainedOnAndMixturesAreRefused() throws {
        let fashion = try untrainedModel("fashion", trainedOn: .fashion)
        let digits = try untrainedModel("digits", trainedOn: .mnist)
        // A data root whose Fashion-MNIST is MNIST's files: enough to see which dataset is loaded.
        let fakeRoot = dir + "/data"
        try FileManager.default.createDirectory(atPath: fakeRoot + "/fashion-mnist", withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/mnist") {
            try FileManager.default.createSymbolicLink(atPath: "\(fakeRoot)/fashion-mnist/\(name)", withDestinationPath: "\(root)/mnist/\(name)")
        }
        let report = try cli(["evaluate", "--data", fakeRoot, "--model", fashion])
        XCTAssertTrue(report.contains("\(fashion) on fashion test") && report.contains("T-shirt/top"), report)

        let contradicted = try cli(["evaluate", "--data", root, "--dataset", "mnist", "--model", fashion], expect: 1)
        XCTAssertTrue(contradicted.contains("\(fashion) was trained on fashion, not mnist"), contradicted)
        let mixed = try cli(["evaluate", "--data", root, "--model", digits, "--model", fashion], expect: 1)
        XCTAssertTrue(mixed.contains("\(digits) was trained on mnist but \(fashion) on fashion"), mixed)

        let answers = dir + "/answers.txt"
        let predicted = try cli(["predict", "--model", fashion, "--input", fixturesDir + "/pickle/dump_f4_3x1x28x28_p4.pkl",
                                 "--out", answers])
        XCTAssertTrue(predicted.contains("warning: \(fashion) was trained on fashion, not MNIST"), predicted)
        XCTAssertEqual(try lines(answers).count, 3, "a warning, not a refusal")
    }

    func testHelpShowsDefaultsAsTypedAndOnlyChoicesThatApply() throws {
        XCTAssertTrue(try cli(["export", "--help"]).contains("(default: 0..99)"))
        let contest = try cli(["contest", "--help"])
        XCTAssertTrue(contest.contains("--dataset <dataset>") && contest.contains("(values: mnist, fashion, cifar10; default:"), contest)
        let classify = try cli(["classify", "--help"])
        XCTAssertFalse(classify.contains("--dataset"), "classify answers MNIST test images only: \(classify)")
    }

    func testInspectChecksAnAnswerFileNamingBadLines() throws {
        let good = dir + "/good.txt", bad = dir + "/bad.txt"
        try FileIO.writeAtomically((0 ..< 3).map { "\($0 % 10)\n" }.joined(), to: good, as: .other)
        let short = try cli(["inspect", good])
        XCTAssertTrue(short.contains("\(good): answer file, 3 lines of one digit each (a contest answer has 10000, one for each image)"), short)
        XCTAssertTrue(short.contains("classes: 0=1 1=1 2=1 3=0"), short)
        var text = (0 ..< 10000).map { "\($0 % 10)\n" }
        text[4] = "12\n"; text[9] = "\n"; text[20] = "3\r\n"
        try FileIO.writeAtomically(text.joined(), to: bad, as: .other)
        let refused = try cli(["inspect", bad], expect: 1)
        for part in ["\(bad): not a valid answer file: 3 of its 10000 lines are not one digit 0–9", "line 5: '12' is not one digit 0–9",
                     "line 10: empty", "line 21: ends with a carriage return", "classes: 0=999 1=1000 2=1000 3=1000 4=999 "] {
            XCTAssertTrue(refused.contains(part), "\(part) in:\n\(refused)")
        }
        try FileIO.writeAtomically("# notes\nnot digits\n", to: dir + "/notes.txt", as: .other)
        let notes = try cli(["inspect", dir + "/notes.txt"], expect: 1)
        XCTAssertTrue(notes.contains("a text file of 2 lines, not an answer file (one digit 0–9 a line): line 1: '# notes'"), notes)
    }

    func testVersionIsPrinted() throws {
        let version = try cli(["--version"]).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotNil(version.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+$"#, options: .regularExpression), version)
    }

    func testClassifyAnswersEveryLineOfStandardInput() throws {
        let (status, out) = try runProcess("/bin/sh", ["-c", "printf '1\\n2\\n\\n3\\n' | \"$0\" classify --data \"$1\"", le4nn, root])
        XCTAssertEqual(status, 0, out)
        for i in 1 ... 3 { XCTAssertTrue(out.contains("image \(i): predicted"), out) }
        XCTAssertEqual(out.split(separator: "\n").filter { $0.count == 1 }.count, 3, "one answer a line: \(out)")
        let (bad, said) = try runProcess("/bin/sh", ["-c", "printf '1\\nx\\n' | \"$0\" classify --data \"$1\"", le4nn, root])
        XCTAssertEqual(bad, 1, said)
        XCTAssertTrue(said.contains("standard input, line 2: 'x' is not an index"), said)
    }

    func testOutOfRangeHyperparametersAreRefusedWithTheValidRange() throws {
        let base = ["train", "--data", root, "--net", "conv8-bn-relu-pool-fc32-relu-fc10", "--epochs", "1", "--train-limit", "200",
                    "--out", dir + "/h.npz"]
        let cases: [([String], Int32, String)] = [
            (["--lr", "0"], 64, "--lr must be a number > 0, got 0"), (["--lr=-0.1"], 64, "--lr must be a number > 0"),
            (["--lr", "nan"], 64, "--lr must be a number > 0"),
            (["--smoothing", "1.5"], 64, "--smoothing must be in [0, 1)"), (["--weight-decay=-1"], 64, "--weight-decay must be a number ≥ 0"),
            (["--beta1", "1"], 64, "--beta1 must be in [0, 1)"), (["--ema", "1"], 64, "--ema must be in [0, 1), got 1.0"),
            (["--sam", "0"], 64, "--sam must be in (0, 10], got 0.0"),
            (["--validation", "100000"], 1, "--validation 100000 holds out more than half of the 60000 mnist training images: give 0 to 30000"),
        ]
        for (args, status, message) in cases {
            let out = try cli(base + args, expect: status)
            XCTAssertTrue(out.contains(message), "\(args): \(out)")
            XCTAssertFalse(out.contains("epoch 1/1"), "refused before training: \(out)")
        }
    }

    func testWithoutDataTheErrorSaysHowToGiveIt() throws {
        let (status, out) = try runProcess("/usr/bin/env", ["-u", "LE4NN_DATA", le4nn, "export", "--out", dir + "/e"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("no mnist data found: give --data DIR (the folder holding mnist/) or set LE4NN_DATA"), out)
        XCTAssertFalse(out.contains("looked in"), "nothing was looked in: \(out)")
    }

    func testBadInputIsAClearErrorAndWritesNothing() throws {
        let model = try trainSmall("bad")
        let answers = "\(dir)/none.txt"
        let wrongSize = try cli(["predict", "--model", model, "--input", fixturesDir + "/pickle/dump_bad_u1_3x32x32_p4.pkl", "--out", answers], expect: 1)
        XCTAssertTrue(wrongSize.contains("28×28"), wrongSize)
        XCTAssertFalse(FileManager.default.fileExists(atPath: answers))
        let evil = try cli(["predict", "--model", model, "--input", fixturesDir + "/pickle/evil_os_system.pkl", "--out", answers], expect: 1)
        XCTAssertTrue(evil.contains("'os.system' is not allowed"), evil)
        let aug = try cli(["train", "--data", root, "--augment", "crop,twirl", "--out", dir + "/x.npz"], expect: 1)
        XCTAssertTrue(aug.contains("twirl") && aug.contains("cutout"), "lists what is accepted: \(aug)")
        // A model recording no dataset, so that --dataset is obeyed and the shapes are compared.
        let unfit = try cli(["evaluate", "--data", root, "--dataset", "cifar10", "--model", try untrainedModel("unrecorded")], expect: 1)
        XCTAssertTrue(unfit.contains("expects images of 1×28×28") && unfit.contains("3×32×32"), unfit)
        try FileIO.writeAtomically("a file, not a folder", to: dir + "/plain", as: .other)
        let unwritable = try cli(["contest", "--data", root, "--quick", "--submissions", dir + "/plain/subs", "--work", dir + "/w"], expect: 1)
        XCTAssertTrue(unwritable.contains("/plain: is a file, not a folder"), unwritable)
        let notModel = try cli(["evaluate", "--data", root, "--model", fixturesDir + "/idx/tiny-labels-idx1-ubyte"], expect: 1)
        XCTAssertTrue(notModel.contains("not an .npz"), notModel)
    }
}

/// Holds a lock taken on another thread.
final class LockBox: @unchecked Sendable {
    var lock: OutputLock?
}
