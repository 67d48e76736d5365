import XCTest
import LE4Data
@testable import Net

/// Winograd F(m×m, 3×3) for every tile size against direct convolution computed in Double, for every
/// instruction set. The larger tiles multiply by larger constants (F(4×4) up to 8 and 1/24, F(6×6)
/// up to 32 and 1/180) and lose more precision.
final class WinogradTests: XCTestCase {
    /// Worst |winograd − direct| relative to the largest |direct|, over every supported ISA.
    func worstError(_ winograd: Winograd, batch: Int, inC: Int, outC: Int, h: Int, wd: Int, flip: Bool) -> Double {
        var rng = SeededRNG(seed: 11)
        let x = (0 ..< batch * inC * h * wd).map { _ in Float(rng.normal()) }
        let w = (0 ..< outC * inC * 9).map { _ in Float(rng.normal() / 3) }
        // The input gradient is the convolution with the rotated filters, in and out swapped.
        let wEff: [Float] = flip ? (0 ..< inC * outC * 9).map { i in
            let (c, k, t) = (i / (outC * 9), i / 9 % outC, i % 9)
            return w[(k * inC + c) * 9 + 8 - t]
        } : w
        let (cIn, cOut) = flip ? (outC, inC) : (inC, outC)
        let want = referenceConvolution3x3(x.prefix(batch * cIn * h * wd).map { $0 }, wEff, batch: batch, inC: cIn, outC: cOut, h: h, wd: wd)
        let scale = want.map(abs).max() ?? 1
        var worst = 0.0
        for isa in ISA.supported {
            let u = winograd.filters(w, outC: outC, inC: inC, flip: flip, isa: isa)
            var y = [Float](repeating: .nan, count: batch * cOut * h * wd)
            winograd.convolve(x, batch: batch, inC: cIn, outC: cOut, height: h, width: wd,
                              packed: winograd.pack(u, outC: cOut, inC: cIn, isa: isa), scale: nil, shift: nil, relu: false,
                              into: &y, isa: isa)
            let e = zip(y, want).map { abs(Double($0) - $1) }.max()! / scale
            XCTAssertLessThan(e, tolerance(winograd), "F\(winograd.tile) \(isa.name) \(h)×\(wd) flip \(flip)")
            worst = max(worst, e)
        }
        return worst
    }

    /// Worst error allowed, relative to the largest output.
    func tolerance(_ winograd: Winograd) -> Double { winograd.tile == 2 ? 1e-5 : 1e-4 }

    func testForwardAndInputGradientMatchDirectConvolution() {
        for tile in Winograd.tileSizes {
            var worst = 0.0
            // Odd and even sizes, smaller than a tile, and not a whole number of tiles.
            for (h, wd) in [(4, 4), (7, 5), (8, 8), (3, 133), (2, 3)] {
                for flip in [false, true] {
                    worst = max(worst, worstError(Winograd(tile: tile), batch: 3, inC: 16, outC: 12, h: h, wd: wd, flip: flip))
                }
            }
            // Channel counts that are not multiples of 16: the filter transform's runs of 16 and a
            // short one, split across threads; the transforms' vectors of 16, of 8 (40 = 16 + 16 + 8,
            // 12 = 8 + 4) and single channels.
            for flip in [false, true] {
                worst = max(worst, worstError(Winograd(tile: tile), batch: 2, inC: 40, outC: 21, h: 6, wd: 7, flip: flip))
            }
            print("Winograd F(\(tile)×\(tile), 3×3) against direct convolution: worst error \(String(format: "%.1e", worst)) of the largest output")
        }
    }

    /// Threads take groups of images in turn, so an image's group and thread differ from run to run:
    /// each image's output in a batch (256 → 256 channels at 7×7, groups of 23 and 22 images on two
    /// threads) equals, bit for bit, its output convolved alone, pooled and argmax included.
    func testEachImagesOutputIsTheSameWhicheverGroupAndThreadTakeIt() {
        var rng = SeededRNG(seed: 31)
        let (batch, inC, outC, h, wd) = (45, 256, 256, 7, 7)
        let winograd = Winograd(tile: Winograd.tile(height: h, width: wd))
        let x = (0 ..< batch * inC * h * wd).map { _ in Float(rng.normal()) }
        let w = (0 ..< outC * inC * 9).map { _ in Float(rng.normal() / 48) }
        let packed = winograd.pack(winograd.filters(w, outC: outC, inC: inC, flip: false), outC: outC, inC: inC)
        let (size, pooledSize) = (outC * h * wd, outC * (h / 2) * (wd / 2))
        var y = [Float](repeating: .nan, count: batch * size), pooled = [Float](repeating: .nan, count: batch * pooledSize)
        var argmax = [Int32](repeating: -1, count: batch * pooledSize)
        winograd.convolve(x, batch: batch, inC: inC, outC: outC, height: h, width: wd, packed: packed, scale: nil, shift: nil,
                          relu: false, into: &y)
        argmax.withUnsafeMutableBufferPointer { am in
            winograd.convolve(x, batch: batch, inC: inC, outC: outC, height: h, width: wd, packed: packed, scale: nil, shift: nil,
                              relu: false, into: &pooled, pool: true, argmax: am.baseAddress)
        }
        for b in 0 ..< batch {
            let image = Array(x[(b * inC * h * wd)...].prefix(inC * h * wd))
            var alone = [Float](repeating: .nan, count: size), alonePooled = [Float](repeating: .nan, count: pooledSize)
            var aloneArgmax = [Int32](repeating: -1, count: pooledSize)
            winograd.convolve(image, batch: 1, inC: inC, outC: outC, height: h, width: wd, packed: packed, scale: nil,
                              shift: nil, relu: false, into: &alone)
            aloneArgmax.withUnsafeMutableBufferPointer { am in
                winograd.convolve(image, batch: 1, inC: inC, outC: outC, height: h, width: wd, packed: packed, scale: nil,
                                  shift: nil, relu: false, into: &alonePooled, pool: true, argmax: am.baseAddress)
            }
            XCTAssertEqual(Array(y[(b * size)...].prefix(size)), alone, "image \(b)")
            XCTAssertEqual(Array(pooled[(b * pooledSize)...].prefix(pooledSize)), alonePooled, "image \(b), pooled")
            XCTAssertEqual(Array(argmax[(b * pooledSize)...].prefix(pooledSize)), aloneArgmax.map { $0 + Int32(b * size) },
                           "image \(b), argmax")
        }
    }

    /// The pooled output (conv-pool as one step) equals the full output pooled by the max-pool
    /// kernel, bit for bit, maxima and their indices: every tile size and ISA, odd sizes whose last
    /// row and column no window takes, maps smaller than a tile, 16-channel vectors and single
    /// channels, a bias, and values on a grid of halves so that windows hold ties.
    func testPooledOutputEqualsTheOutputPooledBitForBit() {
        var rng = SeededRNG(seed: 21)
        let (batch, inC, outC) = (3, 8, 20)
        let shift = (0 ..< outC).map { Float($0 % 3) / 2 }
        for tile in Winograd.tileSizes {
            let winograd = Winograd(tile: tile)
            for (h, wd) in [(6, 6), (13, 13), (7, 5), (2, 3), (27, 27)] {
                let x = (0 ..< batch * inC * h * wd).map { _ in Float((rng.normal() * 2).rounded()) / 2 }
                let w = (0 ..< outC * inC * 9).map { _ in Float(rng.int(below: 3)) - 1 }
                let u = winograd.filters(w, outC: outC, inC: inC, flip: false)
                let pooledCount = batch * outC * (h / 2) * (wd / 2)
                for isa in ISA.supported {
                    let tag = "F\(tile) \(isa.name) \(h)×\(wd)"
                    var full = [Float](repeating: .nan, count: batch * outC * h * wd)
                    winograd.convolve(x, batch: batch, inC: inC, outC: outC, height: h, width: wd,
                                      packed: winograd.pack(u, outC: outC, inC: inC, isa: isa), scale: nil, shift: shift,
                                      relu: false, into: &full, isa: isa)
                    var want = [Float](repeating: .nan, count: pooledCount), wantArgmax = [Int32](repeating: -1, count: pooledCount)
                    isa.kernels.maxpool2x2(full, batch * outC, h, wd, 0, &want, &wantArgmax)
                    var got = [Float](repeating: .nan, count: pooledCount), argmax = [Int32](repeating: -1, count: pooledCount)
                    argmax.withUnsafeMutableBufferPointer { am in
                        winograd.convolve(x, batch: batch, inC: inC, outC: outC, height: h, width: wd,
                                          packed: winograd.pack(u, outC: outC, inC: inC, isa: isa), scale: nil, shift: shift,
                                          relu: false, into: &got, pool: true, argmax: am.baseAddress, isa: isa)
                    }
                    XCTAssertEqual(got, want, tag)
                    XCTAssertEqual(argmax, wantArgmax, tag)
                    XCTAssertTrue(zip(argmax, want).allSatisfy { full[Int($0)] == $1 }, tag)
                }
            }
        }
    }

    func testTileRuleTakesFewestProductsOnTheMemberNetsMaps() {
        // cifar-fast on 28×28 digits convolves 27, 13, 6 and 3-pixel maps; CIFAR's are 32, 16, 8 and 4.
        let picked = [27, 13, 6, 3, 32, 16, 8, 4, 12].map { Winograd.tile(height: $0, width: $0) }
        XCTAssertEqual(picked, [4, 5, 6, 3, 4, 4, 4, 4, 6])
        // 10 % fewer products are needed to move up: F(6×6) on 28×28 (1,600 against F(4×4)'s 1,764) is not taken.
        XCTAssertEqual(Winograd.tile(height: 28, width: 28), 4)
    }

    func testFusedScaleShiftAndReLU() {
        var rng = SeededRNG(seed: 5)
        let (inC, outC, h, wd) = (16, 3, 5, 6)
        let x = (0 ..< inC * h * wd).map { _ in Float(rng.normal()) }
        let w = (0 ..< outC * inC * 9).map { _ in Float(rng.normal() / 3) }
        let want = referenceConvolution3x3(x, w, batch: 1, inC: inC, outC: outC, h: h, wd: wd)
        let scale: [Float] = [2, -1, 0.5], shift: [Float] = [0.25, 0, -1]
        var y = [Float](repeating: 0, count: outC * h * wd)
        for tile in Winograd.tileSizes {
            let winograd = Winograd(tile: tile)
            winograd.convolve(x, batch: 1, inC: inC, outC: outC, height: h, width: wd,
                              packed: winograd.pack(winograd.filters(w, outC: outC, inC: inC, flip: false), outC: outC, inC: inC),
                              scale: scale, shift: shift, relu: true, into: &y)
            for (i, v) in y.enumerated() {
                let k = i / (h * wd)
                XCTAssertEqual(Double(v), max(0, Double(scale[k]) * want[i] + Double(shift[k])), accuracy: 1e-3)
            }
        }
    }

    func testFilterGradientMatchesDirectCorrelation() {
        for tile in Winograd.tileSizes { filterGradientMatchesDirectCorrelation(Winograd(tile: tile)) }
    }

    /// Backward runs the input gradient alongside the filter gradient, each thread joining in as
    /// its sums are done: dW and dx equal, bit for bit, those of the two passes run one after the
    /// other, with the pooled layer's tiles for dW and all of the map for dx (two tile sizes).
    func testInputGradientAlongsideTheFilterGradientChangesNeither() {
        var rng = SeededRNG(seed: 41)
        let (batch, inC, outC, h, wd) = (37, 24, 40, 13, 13)
        let tiled = Winograd.Region(height: h, width: wd, pooled: true)
        let gradient = Winograd(tile: Winograd.tile(height: tiled.rows, width: tiled.columns))
        let engine = Winograd(tile: Winograd.tile(height: h, width: wd))
        XCTAssertNotEqual(gradient.tile, engine.tile)
        let x = (0 ..< batch * inC * h * wd).map { _ in Float(rng.normal()) }
        let dy = (0 ..< batch * outC * h * wd).map { _ in Float(rng.normal()) }
        let w = (0 ..< outC * inC * 9).map { _ in Float(rng.normal() / 10) }
        let packed = engine.pack(engine.filters(w, outC: outC, inC: inC, flip: true), outC: inC, inC: outC)
        var dWAlone = [Float](repeating: .nan, count: outC * inC * 9), dxAlone = [Float](repeating: .nan, count: x.count)
        gradient.filterGradient(x, dy, batch: batch, inC: inC, outC: outC, height: h, width: wd, tiled: tiled, into: &dWAlone)
        engine.convolve(dy, batch: batch, inC: outC, outC: inC, height: h, width: wd, packed: packed, scale: nil, shift: nil,
                        relu: false, into: &dxAlone)
        var dW = [Float](repeating: .nan, count: dWAlone.count), dx = [Float](repeating: .nan, count: x.count)
        dy.withUnsafeBufferPointer { d in
            dx.withUnsafeMutableBufferPointer { dxp in
                let inputGradient = engine.convolution(d.baseAddress!, batch: batch, inC: outC, outC: inC, height: h, width: wd,
                                                       packed: packed, scale: nil, shift: nil, relu: false, into: dxp.baseAddress!)
                gradient.filterGradient(x, d.baseAddress!, batch: batch, inC: inC, outC: outC, height: h, width: wd,
                                        tiled: tiled, into: &dW, alongside: inputGradient)
            }
        }
        XCTAssertEqual(dW, dWAlone)
        XCTAssertEqual(dx, dxAlone)
    }

    func filterGradientMatchesDirectCorrelation(_ winograd: Winograd) {
        var rng = SeededRNG(seed: 13)
        var worst = 0.0
        // 20 channels take a full 16-channel vector and a partial one. The last two sum only
        // the even part of an odd map (a pool's, past which dy is zero).
        for (batch, inC, outC, h, wd, pooled) in [(3, 16, 12, 5, 7, false), (2, 8, 20, 8, 8, false), (1, 4, 3, 3, 133, false),
                                                   (2, 20, 3, 6, 6, false), (2, 16, 12, 13, 13, true), (3, 8, 5, 7, 5, true)] {
            let x = (0 ..< batch * inC * h * wd).map { _ in Float(rng.normal()) }
            let tiled = Winograd.Region(height: h, width: wd, pooled: pooled)
            let dy = (0 ..< batch * outC * h * wd).map { i in
                let (row, column) = (i / wd % h, i % wd)
                return row < tiled.rows && column < tiled.columns ? Float(rng.normal()) : 0
            }
            // dW[k, c, u, v] = Σ_b,i,j dy[b, k, i, j]·x[b, c, i + u − 1, j + v − 1]
            var want = [Double](repeating: 0, count: outC * inC * 9)
            for b in 0 ..< batch { for k in 0 ..< outC { for c in 0 ..< inC { for u in 0 ..< 3 { for v in 0 ..< 3 {
                var s = 0.0
                for i in 0 ..< h {
                    for j in 0 ..< wd {
                        let (yi, xj) = (i + u - 1, j + v - 1)
                        guard yi >= 0, yi < h, xj >= 0, xj < wd else { continue }
                        s += Double(dy[((b * outC + k) * h + i) * wd + j]) * Double(x[((b * inC + c) * h + yi) * wd + xj])
                    }
                }
                want[((k * inC + c) * 3 + u) * 3 + v] += s
            } } } } }
            let scale = want.map(abs).max()!
            for isa in ISA.supported {
                var dW = [Float](repeating: .nan, count: outC * inC * 9)
                winograd.filterGradient(x, dy, batch: batch, inC: inC, outC: outC, height: h, width: wd, tiled: tiled,
                                        into: &dW, isa: isa)
                let e = zip(dW, want).map { abs(Double($0) - $1) }.max()! / scale
                XCTAssertLessThan(e, tolerance(winograd), "F\(winograd.tile) \(isa.name) \(h)×\(wd)\(pooled ? " pooled" : "")")
                worst = max(worst, e)
            }
        }
        print("Winograd F(\(winograd.tile)×\(winograd.tile), 3×3) filter gradient against direct correlation: worst error \(String(format: "%.1e", worst)) of the largest entry")
    }

    func testIm2colConvolutionMatchesDirectOnRowsWiderThanOneVector() {
        // 5 input channels are too many for the direct kernel and too few for Winograd, so im2col
        // runs; rows of 12 and 13 output pixels take the SIMD8 zero stores at both padded ends.
        var rng = SeededRNG(seed: 17)
        let conv = Conv2D(inChannels: 5, filters: 4, size: 3, stride: 1, pad: 1, initializer: .he, rng: &rng)
        XCTAssertFalse(conv.usesWinograd || conv.usesDirect)
        let (h, wd) = (12, 13)
        let x = (0 ..< 2 * 5 * h * wd).map { _ in Float(rng.normal()) }
        let y = conv.forward(Tensor(shape: [2, 5, h, wd], data: x), training: false)
        let want = referenceConvolution3x3(x, conv.W.value, batch: 2, inC: 5, outC: 4, h: h, wd: wd)
        for (got, w) in zip(y.data, want) { XCTAssertEqual(Double(got), w, accuracy: 1e-5) }
    }
}

final class WinogradFilterCacheTests: XCTestCase {
    /// Inference keeps the transformed filters between calls; a change of the weights, even one
    /// made through a pointer, must reach the next call.
    func testInferenceUsesChangedWeights() {
        var rng = SeededRNG(seed: 7)
        let conv = Conv2D(inChannels: 16, filters: 4, size: 3, stride: 1, pad: 1, initializer: .he, rng: &rng)
        XCTAssertTrue(conv.usesWinograd)
        let x = Tensor(shape: [2, 16, 6, 6], data: (0 ..< 2 * 16 * 36).map { _ in Float(rng.normal()) })
        let before = conv.forward(x, training: false).data
        XCTAssertEqual(conv.forward(x, training: false).data, before)
        conv.W.value.withUnsafeMutableBufferPointer { w in w[0] += 1 }
        let after = conv.forward(x, training: false).data
        XCTAssertNotEqual(after, before)
        XCTAssertEqual(after, conv.forward(x, training: true).data)
    }
}
