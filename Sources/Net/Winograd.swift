import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Convolution with 3×3 filters, stride 1, padding 1, by Winograd F(m×m, 3×3), m = 2 to 6
/// (Kernels/winograd.c): α² GEMMs (α = m + 2) of transformed input tiles and transformed filters
/// replace the 9·C-deep im2col GEMM, with 2.25× (m = 2), 3.24× (m = 3), 4× (m = 4), 4.59× (m = 5)
/// or 5.06× (m = 6) fewer multiplications; likewise the filter gradient, as the exact gradient of that
/// computation (it is linear in the transformed filters). Images are taken in groups whose
/// transformed tiles (α²·T·(C + K) floats) fit in about `groupBytes`, so they stay in cache between
/// the transforms and the GEMMs, but hold at least `minimumTiles` tiles, so that the GEMMs are not
/// dominated by the filters they read.
struct Winograd {
    static let groupBytes = 1 << 21
    /// The fewest tiles T a group holds: every group's GEMMs read all the transformed filters u
    /// (α²·outC·inC floats), and the filter gradient's read and write all of du, beside the group's
    /// own α²·T·(inC + outC) floats of tiles. T ≥ inC·outC/(inC + outC) for the forward GEMMs, twice
    /// that for the gradient's, keeps the filters to about half the traffic. At 256×256 that is 128
    /// and 256 tiles, the values measured best before (a 2 MiB group of 40 tiles took the gradient to
    /// 32 GFLOP/s, 256 tiles to 58; at least 128 forward tiles took cifar-fast's training from 447 to
    /// 487 img/s). At 64→256 it is 51 and 102, not those 128 and 256: smaller groups that stay in
    /// cache took that layer's forward pass from 212 to 175 ms and its backward from 452 to 395 ms,
    /// and a cifar-fast training step 5–6 % shorter (AMD EPYC Zen 3, AVX2, batch 1024, in-process
    /// A/B: 0.943 and 0.950).
    static func minimumTiles(inC: Int, outC: Int, gradient: Bool) -> Int {
        (gradient ? 2 : 1) * inC * outC / (inC + outC)
    }
    /// The output tile sizes m the kernels have.
    static let tileSizes = [2, 3, 4, 5, 6]
    /// A tile size asked for by `LE4NN_WINOGRAD` (one of `tileSizes`), to compare them on one machine.
    static let requestedTile: Int? = (try? EnvironmentSettings.winogradTile(EnvironmentSettings.process)) ?? nil
    /// The output tile size m.
    let tile: Int

    init(tile: Int) {
        precondition(Winograd.tileSizes.contains(tile), "Winograd tiles are \(Winograd.tileSizes)")
        self.tile = tile
    }

    /// The m×m tiles that cover a `height`×`width` map, ⌈H/m⌉·⌈W/m⌉ (edge tiles reach past it).
    static func tiles(_ m: Int, height: Int, width: Int) -> Int { ((height + m - 1) / m) * ((width + m - 1) / m) }

    /// The tile size for `height`×`width` maps, by multiplications, ⌈H/m⌉·⌈W/m⌉·(m + 2)²: from
    /// m = 2 up, a larger tile is taken only if it needs more than 10 % fewer than the best so far
    /// (a smaller tile's transforms are cheaper, its edge tiles waste less, and its constants lose
    /// less precision). So F(4×4) on 32, 28, 27, 16 and 8-pixel maps, F(5×5) on 14, 13 and 10,
    /// F(6×6) on 12 and 6, F(3×3) on 3. On 13×13 maps F(5×5) needs 441 products per channel pair,
    /// F(3×3) 625, F(4×4) and F(6×6) 576; on 6×6 maps F(6×6) 64, F(3×3) 100.
    static func tile(height: Int, width: Int) -> Int {
        func products(_ m: Int) -> Int { tiles(m, height: height, width: width) * (m + 2) * (m + 2) }
        var best = tileSizes[0]
        for m in tileSizes.dropFirst() where products(m) * 10 < products(best) * 9 { best = m }
        return best
    }
    /// α², the number of GEMMs.
    var points: Int { le4_winograd_points(tile) }

    /// The filters W [outC, inC, 3, 3] transformed: [α², outC, inC]; with `flip`, the filters of
    /// the input gradient (rotated 180°, in and out swapped): [α², inC, outC]. Split across threads:
    /// done serially, this was 5 % of a cifar-small training step.
    func filters(_ w: [Float], outC: Int, inC: Int, flip: Bool, isa: ISA = .active) -> [Float] {
        [Float](unsafeUninitializedCapacity: points * outC * inC) { u, n in
            Threads.parallelFor(outC, minChunk: 4) { ks in
                isa.kernels.winograd_filter(tile, ks.lowerBound, ks.upperBound, outC, inC, w, flip ? 1 : 0, u.baseAddress!)
            }
            n = points * outC * inC
        }
    }

    /// How one thread's `images` of H×W are cut, with tiles over `tiled`, the output's first rows
    /// and columns: tiles per image, images per group, scratch floats. With `minTiles`, groups hold
    /// at least that many tiles, up to 8 × `groupBytes`.
    func plan(images: Int, inC: Int, outC: Int, height: Int, width: Int, tiled: Region,
              minTiles: Int = 1) -> (tiles: Int, group: Int, scratch: Int) {
        let tiles = Winograd.tiles(tile, height: tiled.rows, width: tiled.columns), bytes = 4 * points * (inC + outC) * tiles
        let deep = min((minTiles + tiles - 1) / tiles, 8 * Winograd.groupBytes / bytes)
        let group = max(1, min(images, max(Winograd.groupBytes / bytes, deep)))
        let scratch = max(le4_winograd_scratch(tile, inC, height, width), le4_winograd_scratch(tile, outC, height, width))
        return (tiles, group, scratch)
    }

    /// The output rows and columns that the tiles cover, from the first: all of an H×W output, or
    /// before a 2×2 pool the even part that its windows take (a 13×13 output pooled to 6×6 needs
    /// 12×12, which F(6×6) covers with 4 tiles of 64 points instead of F(5×5)'s 9 of 49).
    struct Region {
        var rows: Int, columns: Int
        /// All of a `height`×`width` output, or with `pooled` the part that a 2×2 max pool reads.
        init(height: Int, width: Int, pooled: Bool = false) {
            (rows, columns) = pooled ? (height & ~1, width & ~1) : (height, width)
        }
    }

    /// Work that threads share by taking groups of images in turn (`Threads.Turns`): `work()` is
    /// one thread's part, run by as many threads as join in (`run()`, or alongside the filter
    /// gradient).
    struct Shared {
        let turns: Threads.Turns
        let work: () -> Void

        /// The work on all the threads the turns are for.
        func run() { turns.run(work) }
    }

    /// `body(first, count, v, o, scratch)` for groups of images that the threads take in turn, each
    /// with its own buffers as `forEachGroup` gives them: for passes whose output for each image
    /// does not depend on the group it is in (the convolution, not the filter gradient's sums).
    /// Groups shrink toward the end, but keep `minTiles`: smaller ones, each reading all the
    /// filters for a few tiles, had made inference of cifar-fast in slices of 100 images 30 %
    /// slower than fixed halves.
    func groupsInTurn(batch: Int, inC: Int, outC: Int, height: Int, width: Int, tiled: Region, minTiles: Int,
                      _ body: @escaping (Int, Int, inout [Float], inout [Float], inout [Float]) -> Void) -> Shared {
        let threads = Threads.chunks(batch)
        let (tilesPerImage, group, scratchSize) = plan(images: (batch + threads - 1) / threads, inC: inC, outC: outC,
                                                       height: height, width: width, tiled: tiled, minTiles: minTiles)
        let points = points, turns = Threads.Turns(batch, most: group, least: (minTiles + tilesPerImage - 1) / tilesPerImage)
        return Shared(turns: turns) {
            var (v, o, scratch) = Winograd.buffers(points: points, tiles: group * tilesPerImage, inC: inC, outC: outC,
                                                   scratch: scratchSize)
            while let images = turns.next() { body(images.lowerBound, images.count, &v, &o, &scratch) }
        }
    }

    /// One thread's buffers for groups of up to `tiles` tiles: v [α², T, inC], o [α², T, outC], scratch.
    private static func buffers(points: Int, tiles: Int, inC: Int, outC: Int,
                                scratch: Int) -> (v: [Float], o: [Float], scratch: [Float]) {
        (uninitializedFloats(points * tiles * inC), uninitializedFloats(points * tiles * outC), uninitializedFloats(scratch))
    }

    /// A group of images one thread transforms at a time.
    struct Group {
        /// The thread's chunk of the batch, and whether this is the chunk's first group.
        var chunk: Int, isFirstOfChunk: Bool
        /// The first image, how many images, and their tiles T.
        var first: Int, count: Int, tiles: Int
    }

    /// Runs `body` for each group of images, the batch split across threads. Each thread owns three
    /// buffers for its chunk: `v` [α², T, inC] for transformed input tiles, `o` [α², T, outC] for
    /// tiles with outC channels (products or transformed gradients), `scratch` for the transforms.
    /// Then each thread joins in `alongside`, if any, with those buffers freed.
    func forEachGroup(batch: Int, inC: Int, outC: Int, height: Int, width: Int, tiled: Region, minTiles: Int = 1,
                      alongside: Shared? = nil, _ body: (Group, inout [Float], inout [Float], inout [Float]) -> Void) {
        let chunks = Threads.chunks(batch)
        let (tilesPerImage, group, scratchSize) = plan(images: (batch + chunks - 1) / chunks, inC: inC, outC: outC,
                                                       height: height, width: width, tiled: tiled, minTiles: minTiles)
        let points = points
        Threads.parallelFor(batch, chunks: chunks) { chunk, images in
            do {
                var (v, o, scratch) = Winograd.buffers(points: points, tiles: group * tilesPerImage, inC: inC, outC: outC,
                                                       scratch: scratchSize)
                for first in Swift.stride(from: images.lowerBound, to: images.upperBound, by: group) {
                    let n = min(group, images.upperBound - first)
                    body(Group(chunk: chunk, isFirstOfChunk: first == images.lowerBound, first: first, count: n,
                               tiles: n * tilesPerImage), &v, &o, &scratch)
                }
            }
            alongside?.work()
        }
    }

    /// Transformed filters u [α², outC, inC] packed for the GEMMs of each point, op(B) = u[ξ]ᵀ: once
    /// per call of `convolve`, for the GEMMs of every group; at inference `Conv2D` keeps them.
    /// The points are packed in parallel: on one thread this left the second core idle for 2 % of
    /// a contest member's training.
    func pack(_ u: UnsafePointer<Float>, outC: Int, inC: Int, isa: ISA = .active) -> [PackedB] {
        [PackedB](unsafeUninitializedCapacity: points) { packed, count in
            Threads.parallelFor(points) { xis in
                for xi in xis {
                    (packed.baseAddress! + xi).initialize(to: PackedB(transB: true, n: outC, k: inC, b: u + xi * outC * inC,
                                                                      ldb: inC, isa: isa))
                }
            }
            count = points
        }
    }

    // x: [B, inC, H, W] → y: [B, outC, H, W], or pooled [B, outC, H/2, W/2]; packed: α² × [inC, outC]
    /// y = scale·(x ⊛ filters) + shift per output channel (nil scale: 1; nil shift: 0), then max(y, 0)
    /// if `relu`, with the filters as `pack` gives them. With `pool` (and neither scale nor relu), y is
    /// pooled 2×2 as `MaxPool` pools, and `argmax`, unless nil, receives each maximum's index in the
    /// full-size output, which is never written (nor are its rows and columns that no window takes
    /// computed). Groups of images go to the threads in turn, each with its own transform buffers.
    func convolve(_ x: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int, height: Int, width: Int,
                  packed: [PackedB], scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                  relu: Bool, into y: UnsafeMutablePointer<Float>, pool: Bool = false,
                  argmax: UnsafeMutablePointer<Int32>? = nil, isa: ISA = .active) {
        guard let c = convolution(x, batch: batch, inC: inC, outC: outC, height: height, width: width, packed: packed,
                                  scale: scale, shift: shift, relu: relu, into: y, pool: pool, argmax: argmax, isa: isa)
        else { return }
        c.run()
    }

    /// `convolve`'s work, for threads to share: nil when there is none (a pool of a map 1 pixel
    /// high or wide). The pointers must stay valid until the work is done.
    func convolution(_ x: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int, height: Int, width: Int,
                     packed: [PackedB], scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                     relu: Bool, into y: UnsafeMutablePointer<Float>, pool: Bool = false,
                     argmax: UnsafeMutablePointer<Int32>? = nil, isa: ISA = .active) -> Shared? {
        let imageSize = height * width, points = points, tile = tile
        let outSize = pool ? (height / 2) * (width / 2) : imageSize
        precondition(packed.count == points && packed.allSatisfy { $0.n == outC && $0.k == inC }, "filters packed for another shape")
        precondition(!pool || (scale == nil && !relu), "a pooled output takes a shift only")
        let tiled = Region(height: height, width: width, pooled: pool)
        guard tiled.rows > 0, tiled.columns > 0 else { return nil }
        let tilesPerImage = Winograd.tiles(tile, height: tiled.rows, width: tiled.columns)
        return groupsInTurn(batch: batch, inC: inC, outC: outC, height: height, width: width, tiled: tiled,
                            minTiles: Winograd.minimumTiles(inC: inC, outC: outC, gradient: false)) { first, n, v, m, scratch in
            let tiles = n * tilesPerImage
            isa.kernels.winograd_input(tile, x + first * inC * imageSize, n, inC, height, width, tiled.rows, tiled.columns,
                                       &scratch, &v)
            v.withUnsafeBufferPointer { vp in
                m.withUnsafeMutableBufferPointer { mp in
                    for xi in 0 ..< points {  // m[ξ] (T×outC) = v[ξ] (T×inC) · u[ξ]ᵀ
                        gemm(m: tiles, a: vp.baseAddress! + xi * tiles * inC, lda: inC, b: packed[xi],
                             c: mp.baseAddress! + xi * tiles * outC, ldc: outC)
                    }
                }
            }
            guard pool else {
                isa.kernels.winograd_output(tile, m, n, outC, height, width, scale, shift, relu ? 1 : 0,
                                            &scratch, y + first * outC * imageSize)
                return
            }
            isa.kernels.winograd_output_pool(tile, m, n, outC, height, width, shift, &scratch, y + first * outC * outSize,
                                             argmax.map { $0 + first * outC * outSize },
                                             Int32(truncatingIfNeeded: first * outC * imageSize))
        }
    }

    // x: [B, inC, H, W], dy: [B, outC, H, W] → dW: [outC, inC, 3, 3]
    /// The filter gradient of `convolve`: du[ξ] (outC×inC) = Σ_t w[ξ][t]ᵀ·v[ξ][t], with v the
    /// transformed input tiles and w the transformed output-gradient tiles, then dW = Gᵀ·du·G.
    /// Each thread sums its images; the threads' sums are added in a fixed order. Only the tiles of
    /// `tiled` (default: all of dy) are summed: past it, dy must be zero (a pool's unread edge).
    /// With `alongside` (the input gradient's convolution), each thread joins in that work when
    /// its sums are done, so that the thread done first takes more of it.
    func filterGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int,
                        height: Int, width: Int, tiled: Region? = nil, into dW: UnsafeMutablePointer<Float>,
                        alongside: Shared? = nil, isa: ISA = .active) {
        let tiled = tiled ?? Region(height: height, width: width)
        guard tiled.rows > 0, tiled.columns > 0 else {
            dW.update(repeating: 0, count: outC * inC * 9)
            alongside?.run()
            return
        }
        let imageSize = height * width, points = points, tile = tile
        let chunks = Threads.chunks(batch), uSize = points * outC * inC
        var du = uninitializedFloats(chunks * uSize)  // [chunk, α², outC, inC]
        du.withUnsafeMutableBufferPointer { dup in
            forEachGroup(batch: batch, inC: inC, outC: outC, height: height, width: width, tiled: tiled,
                         minTiles: Winograd.minimumTiles(inC: inC, outC: outC, gradient: true), alongside: alongside) { g, v, w, scratch in
                let (first, n, tiles) = (g.first, g.count, g.tiles)
                let (rows, columns) = (tiled.rows, tiled.columns)
                isa.kernels.winograd_input(tile, x + first * inC * imageSize, n, inC, height, width, rows, columns, &scratch, &v)
                isa.kernels.winograd_output_grad(tile, dy + first * outC * imageSize, n, outC, height, width, rows, columns,
                                                 &scratch, &w)
                let sum = dup.baseAddress! + g.chunk * uSize
                v.withUnsafeBufferPointer { vp in
                    w.withUnsafeBufferPointer { wp in
                        for xi in 0 ..< points {  // du[ξ] (outC×inC) += w[ξ]ᵀ (outC×T) · v[ξ] (T×inC)
                            gemm(transA: true, m: outC, n: inC, k: tiles, a: wp.baseAddress! + xi * tiles * outC, lda: outC,
                                 b: vp.baseAddress! + xi * tiles * inC, ldb: inC, beta: g.isFirstOfChunk ? 0 : 1,
                                 c: sum + xi * outC * inC, ldc: inC, isa: isa)
                        }
                    }
                }
            }
            Threads.sumChunks(dup, chunks: chunks, size: uSize)
            // Split by filters: done serially, with the sums, this left the second core idle for 2 %
            // of a cifar-fast training step.
            Threads.parallelFor(outC, minChunk: 4) { ks in
                isa.kernels.winograd_filter_grad(tile, ks.lowerBound, ks.upperBound, outC, inC, dup.baseAddress!, dW)
            }
        }
    }
}
