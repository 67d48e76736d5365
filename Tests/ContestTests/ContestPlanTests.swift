import Foundation
import XCTest
import TestSupport
@testable import Contest

/// The member a job of a cluster's job array trains, how a changed setting is explained, and how
/// the time left is counted across members of different speeds.
final class ContestPlanTests: XCTestCase {
    func member(_ env: [String: String]) throws -> Int? { try arrayJobMember(environment: env)?.member }

    func testArrayIndexMapsToOneBasedMemberForEachScheduler() throws {
        XCTAssertNil(try member([:]))
        XCTAssertNil(try member(["SLURM_JOB_ID": "77"]), "a plain Slurm job is not an array job")
        XCTAssertEqual(try member(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1"]), 3, "--array=1-5")
        XCTAssertEqual(try member(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MIN": "0"]), 1, "--array=0-4")
        XCTAssertEqual(try member(["SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_MIN": "10"]), 3, "--array=10-14")
        XCTAssertEqual(try member(["SLURM_ARRAY_TASK_ID": "4"]), 5, "without a minimum the array counts from 0")
        XCTAssertEqual(try member(["JOB_COMPLETION_INDEX": "0"]), 1, "Kubernetes Indexed Job, 0-based")
        XCTAssertEqual(try member(["AWS_BATCH_JOB_ARRAY_INDEX": "4"]), 5, "AWS Batch array, 0-based")
        XCTAssertEqual(try member(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "JOB_COMPLETION_INDEX": "0"]), 2,
                       "Slurm's index wins when both are set")
    }

    func testAFewDifferencesAreShownInFullAndManyByTheirNamesOnly() {
        XCTAssertEqual(ContestPlan.summary(of: ["epochs 8 → 12", "seed 1 → 2"]), "epochs 8 → 12, seed 1 → 2")
        let many = ["net " + String(repeating: "conv64-", count: 20) + " → mnist-small", "epochs 10 → 2", "lookahead true → unset"]
        XCTAssertEqual(ContestPlan.summary(of: many), "3 settings differ: net, epochs, lookahead; le4nn inspect shows them")
    }

    func testSlurmJobsGetTheContestsOptionsWithoutSlurmsOwnAndTheDefaultsNotGiven() {
        XCTAssertEqual(SlurmSubmission.contestArguments(["contest", "--slurm", "--sbatch", "--mem=1G", "--quick", "--sbatch=--time=5", "--seed", "3"]),
                       ["contest", "--quick", "--seed", "3"])
        func options(_ given: [String]) -> [String] {
            SlurmSubmission(contestArguments: [], sbatchOptions: given, members: 3, answerPath: "a.txt", work: "w").options
        }
        XCTAssertEqual(options([]), ["--cpus-per-task=2", "--mem=3G"])
        XCTAssertEqual(options(["-c8"]), ["--cpus-per-task=2", "--mem=3G", "-c8"], "the user's come last: sbatch takes the last")
        XCTAssertEqual(options(["--mem-per-cpu=2G", "--partition=cpu"]), ["--cpus-per-task=2", "--mem-per-cpu=2G", "--partition=cpu"],
                       "--mem and --mem-per-cpu exclude each other")
        for bad in ["", "=", "script.sh"] {
            XCTAssertThrowsError(try SlurmSubmission.checkOptions([bad])) { XCTAssertTrue("\($0)".contains("is not an sbatch option"), "\($0)") }
        }
    }

    func testBadArrayIndexIsRefusedNamingTheVariable() {
        for (env, name) in [(["JOB_COMPLETION_INDEX": "x"], "JOB_COMPLETION_INDEX"), (["AWS_BATCH_JOB_ARRAY_INDEX": "-1"], "AWS_BATCH_JOB_ARRAY_INDEX"),
                            (["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "2"], "SLURM_ARRAY_TASK_MIN")] {
            XCTAssertThrowsError(try member(env)) { XCTAssertTrue("\($0)".contains(name), "\($0)") }
        }
    }

    func testDifferencesNameEachChangedSettingWithBothValues() {
        var a = TrainSettings(dataset: "mnist", net: "fc10", optimizer: "momentum", learningRate: 0.05, beta1: 0.9, beta2: 0.999,
                              epsilon: 1e-8, weightDecay: 5e-4, l1: 0, schedule: "onecycle", epochs: 8, batch: 100, augment: "crop",
                              smoothing: 0.1, validation: 0, initializer: "he", seed: 1, trainLimit: nil, ema: nil)
        XCTAssertEqual(ContestPlan.differences(a, a), [])
        var b = a
        b.epochs = 12; b.ema = 0.999
        XCTAssertEqual(ContestPlan.differences(a, b), ["ema unset → 0.999", "epochs 8 → 12"])
        a.augment = "affine"
        XCTAssertEqual(ContestPlan.differences(a, b).first, "augment affine → crop")
    }

    func testLaterMembersAreCountedAtEachMembersOwnSpeed() {
        // Member 1: 600 images at 100 img/s, then member 2 (reused) and member 3, 900 images at
        // 300 img/s: 3 seconds, which at member 1's speed is 300 images.
        XCTAssertEqual(ContestPlan.imagesAfter(images: [600, 0, 900], rates: [100, 0, 300]), [300, 0, 0])
        XCTAssertEqual(ContestPlan.imagesAfter(images: [50, 50, 50], rates: [10, 10, 10]), [100, 50, 0])
    }
}
