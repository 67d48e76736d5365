import Foundation
import XCTest

/// The committed fixtures folder (written by Tests/Fixtures/make_fixtures.py).
public let fixturesDir: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// The checkout: the folder holding Package.swift.
public let repositoryDir: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The le4nn executable of this build, beside the test bundle.
public let le4nnExecutable: String = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("le4nn").path

/// The real-data root: `LE4NN_DATA`, else `../shared/data` beside the checkout.
/// Without data the test is skipped, or fails when `LE4NN_REQUIRE_DATA=1` (as CI sets it).
/// The path is absolute: tests hand it to processes and Slurm jobs that run in other folders.
public func requireDataRoot(_ marker: String = "mnist/t10k-labels-idx1-ubyte.gz") throws -> String {
    let env = ProcessInfo.processInfo.environment
    let beside = URL(fileURLWithPath: repositoryDir).appendingPathComponent("../shared/data").standardized.path
    let candidates = [env["LE4NN_DATA"].map { URL(fileURLWithPath: $0).absoluteURL.standardized.path }, beside].compactMap { $0 }
    if let root = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/" + marker) }) { return root }
    let message = "real data not found (\(marker) under \(candidates.joined(separator: " or ")))"
    if env["LE4NN_REQUIRE_DATA"] == "1" {
        XCTFail(message + " but LE4NN_REQUIRE_DATA=1")
        throw XCTSkip(message)
    }
    throw XCTSkip(message + "; set LE4NN_DATA to run this test")
}

extension XCTestCase {
    /// A fresh empty temporary folder, removed with everything in it when the test ends (the
    /// suite trains and writes models in hundreds of them).
    public func temporaryDirectory(_ name: String = "le4nn-test") -> String {
        let dir = NSTemporaryDirectory() + "/\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    /// The lines of a text file (an answer file: one class per line, each ended by a newline).
    public func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}

/// Runs a command (in `directory`, or here) and returns its exit status and combined output.
@discardableResult
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       directory: String? = nil) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let d = directory { p.currentDirectoryURL = URL(fileURLWithPath: d) }
    if let e = environment { p.environment = ProcessInfo.processInfo.environment.merging(e) { $1 } }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
