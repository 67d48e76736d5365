import XCTest
@testable import LE4Data
import TestSupport

final class QuoteTests: XCTestCase {
    func testQuoteEscapesTerminalControlAndCutsLongText() {
        XCTAssertEqual(quote("conv8-fc10"), "'conv8-fc10'")
        XCTAssertEqual(quote("a\u{1B}[31m\nb\u{202E}×"), "'a\\u{1b}[31m\\u{a}b\\u{202e}×'", "ESC, newline and a bidi override are escaped")
        XCTAssertEqual(quote(String(repeating: "x", count: 1000), limit: 5), "'xxxxx… (995 more characters)'")
        XCTAssertEqual(escaped("line 1\nline 2", keepingNewlines: true), "line 1\nline 2")
    }

    func testACraftedPickleGlobalGivesAShortInertError() throws {
        let path = temporaryDirectory() + "/evil.pkl"
        let module = String(repeating: "\u{1B}[31m", count: 20000)
        try FileIO.writeAtomically([0x80, 0x02, UInt8(ascii: "c")] + Array("\(module)\nx\n.".utf8), to: path, as: .other)
        XCTAssertThrowsError(try Pickle.load(path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("is not allowed"), message)
            XCTAssertLessThan(message.utf8.count, 2000, "quotes at most 200 characters of the global")
            XCTAssertFalse(message.unicodeScalars.contains("\u{1B}"), "no terminal escape reaches the message")
        }
    }
}
