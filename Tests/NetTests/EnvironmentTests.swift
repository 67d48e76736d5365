import XCTest
@testable import Net

final class EnvironmentTests: XCTestCase {
    func env(_ values: [String: String]) -> EnvironmentSettings.Lookup { { values[$0] } }

    func testThreadCountsAreValidatedAndCappedAtTheCoresWithANote() throws {
        XCTAssertEqual(try EnvironmentSettings.threads(env([:]), cores: 4).count, 4)
        XCTAssertEqual(try EnvironmentSettings.threads(env(["LE4NN_THREADS": "3", "SLURM_CPUS_PER_TASK": "1"]), cores: 4).count, 3,
                       "LE4NN_THREADS comes before Slurm's count")
        XCTAssertEqual(try EnvironmentSettings.threads(env(["SLURM_CPUS_PER_TASK": "1"]), cores: 4).count, 1)
        let many = try EnvironmentSettings.threads(env(["LE4NN_THREADS": "64"]), cores: 4)
        XCTAssertEqual(many.count, 4)
        XCTAssertEqual(many.note, "LE4NN_THREADS=64 asks for more threads than the 4 cores: using 4")
        for bad in ["abc", "0", "-1", "2.5", "", " 2", "1025"] {
            XCTAssertThrowsError(try EnvironmentSettings.threads(env(["LE4NN_THREADS": bad]), cores: 4)) {
                XCTAssertTrue("\($0)".contains("LE4NN_THREADS='\(bad)' is not a thread count"), "\($0)")
            }
        }
    }

    func testAnInstructionSetIsOneOfTheNamesAndNeverMoreThanTheCPUHas() throws {
        let (portable, avx2, avx512) = (try XCTUnwrap(ISA.named("portable")), try XCTUnwrap(ISA.named("avx2")),
                                        try XCTUnwrap(ISA.named("avx512")))
        XCTAssertEqual(ISA.allCases.first, portable)
        XCTAssertTrue(portable < avx2 && avx2 < avx512)
        XCTAssertEqual(try EnvironmentSettings.isa(env(["LE4NN_ISA": "portable"]), best: avx2).isa, portable)
        let above = try EnvironmentSettings.isa(env(["LE4NN_ISA": "avx512"]), best: avx2)
        XCTAssertEqual(above.isa, avx2)
        XCTAssertEqual(above.note, "LE4NN_ISA=avx512: this CPU lacks it; using avx2")
        XCTAssertThrowsError(try EnvironmentSettings.isa(env(["LE4NN_ISA": "AVX2"]), best: avx512)) {
            XCTAssertTrue("\($0)".contains("give one of " + ISA.allCases.map(\.name).joined(separator: ", ")), "\($0)")
        }
        XCTAssertEqual(try EnvironmentSettings.winogradTile(env(["LE4NN_WINOGRAD": "4"])), 4)
        XCTAssertEqual(try EnvironmentSettings.winogradTile(env(["LE4NN_WINOGRAD": "3"])), 3)
        XCTAssertThrowsError(try EnvironmentSettings.winogradTile(env(["LE4NN_WINOGRAD": "7"])))
    }
}
