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

    /// Ranges keep at least `least` items (but the last), raised to split the items evenly.
    func testTurnsKeepAtLeastLeastItemsRaisedToSplitEvenly() throws {
        try XCTSkipIf(Threads.count != 2, "the ranges asserted are those of 2 threads")
        func counts(_ n: Int, most: Int, least: Int) -> [Int] {
            let taken = Mutex<[Range<Int>]>([]), turns = Threads.Turns(n, most: most, least: least)
            turns.run { while let r = turns.next() { taken.withLock { $0.append(r) } } }
            return taken.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }.map(\.count)
        }
        XCTAssertEqual(counts(100, most: 50, least: 32), [50, 50])
        XCTAssertEqual(counts(1024, most: 128, least: 128), Array(repeating: 128, count: 8))
        let shrinking = counts(1024, most: 64, least: 20)
        XCTAssertEqual(shrinking.reduce(0, +), 1024)
        XCTAssertTrue(shrinking.dropLast().allSatisfy { (21 ... 64).contains($0) }, "\(shrinking)")  // 25 per thread: ⌈1024 / 50⌉
    }

    /// Toward the end the ranges shrink, so that no thread is left with a whole `most` to do alone.
    func testTurnsShrinkTheLastRangesWhenThreadsShareTheWork() throws {
        try XCTSkipIf(Threads.count < 2, "one thread takes whole ranges")
        let ranges = takenRanges(1024, most: 32).sorted { $0.lowerBound < $1.lowerBound }
        XCTAssertEqual(ranges.first?.count, 32)
        XCTAssertEqual(ranges.last?.count, 1)
    }
}
