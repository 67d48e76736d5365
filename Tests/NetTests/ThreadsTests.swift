import Synchronization
import XCTest
@testable import Net

final class ThreadsTests: XCTestCase {
    /// The ranges handed out in turn, in the order they were taken.
    func takenRanges(_ n: Int, most: Int) -> [Range<Int>] {
        let taken = Mutex<[Range<Int>]>([]), turns = Threads.Turns(n, most: most)
        turns.run {
            while let r = turns.next() { taken.withLock { $0.append(r) } }
        }
        return taken.withLock { $0 }
    }

    func testTurnsHandOutEveryItemOnceInRangesOfAtMostMost() {
        for (n, most) in [(0, 4), (1, 4), (7, 1), (100, 8), (1024, 32), (1000, 2000)] {
            let ranges = takenRanges(n, most: most)
            XCTAssertEqual(ranges.sorted { $0.lowerBound < $1.lowerBound }.flatMap { Array($0) }, Array(0 ..< n),
                           "n \(n), most \(most): \(ranges)")
            XCTAssertTrue(ranges.allSatisfy { !$0.isEmpty && $0.count <= most }, "n \(n), most \(most): \(ranges)")
        }
    }

    /// Toward the end the ranges shrink, so that no thread is left with a whole `most` to do alone.
    func testTurnsShrinkTheLastRangesWhenThreadsShareTheWork() throws {
        try XCTSkipIf(Threads.count < 2, "one thread takes whole ranges")
        let ranges = takenRanges(1024, most: 32).sorted { $0.lowerBound < $1.lowerBound }
        XCTAssertEqual(ranges.first?.count, 32)
        XCTAssertEqual(ranges.last?.count, 1)
    }
}
