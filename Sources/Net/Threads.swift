import CMalloc
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The worker threads le4nn splits its loops across (batches, rows of a GEMM, channels).
public enum Threads {
    /// Number of worker threads, as `EnvironmentSettings.threads` reads them (at most the cores).
    public static let count: Int = {
        let cores = EnvironmentSettings.cores
        return (try? EnvironmentSettings.threads(EnvironmentSettings.process, cores: cores).count) ?? cores
    }()

    /// How many chunks `parallelFor` splits `n` items into.
    public static func chunks(_ n: Int, minChunk: Int = 1) -> Int { min(count, max(1, n / max(1, minChunk))) }

    /// Runs `body(range)` for index ranges that split 0..<n, in parallel.
    /// Each index is handled the same way in any chunk, so results do not depend on the thread count.
    public static func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        parallelFor(n, chunks: chunks(n, minChunk: minChunk)) { _, r in body(r) }
    }

    /// Runs `body(chunk, range)` for `chunks` contiguous ranges that split 0..<n, in parallel.
    public static func parallelFor(_ n: Int, chunks: Int, _ body: (Int, Range<Int>) -> Void) {
        if chunks <= 1 { body(0, 0 ..< n); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, n * c / chunks ..< n * (c + 1) / chunks)
        }
    }

    /// Ranges that split 0..<n, handed out in turn to whichever thread asks first. A thread that is
    /// slowed (by the other threads' cache traffic, the machine's other guests) so takes fewer,
    /// where `parallelFor`'s fixed halves left the faster core idle for 6 % of a contest member's
    /// training. Ranges hold at most `most` items, fewer toward the end (a share of what is left),
    /// so that the threads finish together, but not fewer than `least` (except the last), raised
    /// so that n splits into a whole number of such ranges per thread: a batch of 100 in ranges of
    /// at least 32 goes as 50 and 50, not 32, 32, 32 and 4. For work whose result for each item
    /// does not depend on the range or thread it is done in: which thread takes what differs from
    /// run to run.
    /// (The multithreaded SGEMM keeps fixed halves: taking blocks of rows in turn from a B packed
    /// once ran its 1024³ products at 180 GFLOP/s on 2 threads, against 190–197.)
    public final class Turns: Sendable {
        let n: Int, most: Int, least: Int
        /// The threads that share the ranges, as many as `run` starts.
        let threads: Int
        private let taken = Atomic<Int>(0)

        public init(_ n: Int, most: Int, least: Int = 1) {
            self.n = n
            self.most = max(1, most)
            threads = Threads.chunks(n)
            let perThread = max(1, n / (threads * max(1, min(least, most))))  // ranges of at least `least` each
            self.least = min(self.most, (n + threads * perThread - 1) / (threads * perThread))
        }

        /// Runs `worker` once on each of `threads` threads, for them to take the ranges.
        public func run(_ worker: () -> Void) {
            Threads.parallelFor(threads, chunks: threads) { _, _ in worker() }
        }

        /// The next range, or nil when all are taken.
        public func next() -> Range<Int>? {
            var start = taken.load(ordering: .relaxed)
            while start < n {
                let size = min(n - start, most, threads > 1 ? max(least, (n - start) / (2 * threads)) : most)
                let (exchanged, found) = taken.compareExchange(expected: start, desired: start + size, ordering: .relaxed)
                if exchanged { return start ..< start + size }
                start = found
            }
            return nil
        }
    }

    /// Adds the threads' partial sums, `chunks` consecutive arrays of `size` floats, into the
    /// first one, chunk by chunk in order: the same additions in every run with this thread count.
    /// The elements are split across threads: done on one, the Winograd filter gradient's sums
    /// left the second core idle.
    static func sumChunks(_ partial: UnsafeMutableBufferPointer<Float>, chunks: Int, size: Int) {
        guard chunks > 1 else { return }
        parallelFor(size, minChunk: 4096) { elements in
            for c in 1 ..< chunks { for i in elements { partial[i] += partial[c * size + i] } }
        }
    }

    /// Makes malloc serve large buffers from the heap and keep them when freed, so each minibatch
    /// does not map and fault in fresh pages. Call once at program start. If malloc refuses a
    /// setting, training is only slower.
    public static func configure() {
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
    }
}
