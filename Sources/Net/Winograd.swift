import CKernels

/// Convolution with 3×3 filters, stride 1, padding 1, by Winograd F(2×2, 3×3) (Kernels/winograd.c):
/// 16 GEMMs of transformed input tiles and transformed filters replace the 9·C-deep im2col GEMM,
/// with 2.25× fewer multiplications. Images are taken in groups whose transformed tiles
/// (16·T·(C + K) floats) fit in about `groupBytes`, so they stay in the core's L2 cache between the
/// transforms and the GEMMs.
enum WinogradF2 {
    static let groupBytes = 1 << 20

    /// The filters W [outC, inC, 3, 3] transformed: [16, outC, inC]; with `flip`, the filters of the
    /// input gradient (rotated 180°, in and out swapped): [16, inC, outC].
    static func filters(_ w: [Float], outC: Int, inC: Int, flip: Bool) -> [Float] {
        [Float](unsafeUninitializedCapacity: 16 * outC * inC) { u, n in
            le4_winograd_f2_filter(outC, inC, w, flip ? 1 : 0, u.baseAddress!)
            n = 16 * outC * inC
        }
    }

    // x: [B, inC, H, W] → y: [B, outC, H, W]; u: [16, outC, inC]
    /// y = scale·(x ⊛ filters) + shift per output channel (nil scale: 1; nil shift: 0), then max(y, 0)
    /// if `relu`. The batch is split across threads, each with its own transform buffers.
    static func convolve(_ x: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int, height: Int, width: Int,
                         filters u: UnsafePointer<Float>, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                         relu: Bool, into y: UnsafeMutablePointer<Float>, isa: ISA = .active) {
        let tilesPerImage = ((height + 1) / 2) * ((width + 1) / 2)
        let group = max(1, min(batch, groupBytes / (64 * (inC + outC) * tilesPerImage)))
        let maxTiles = group * tilesPerImage, imageSize = height * width
        let scratchSize = max(le4_winograd_f2_scratch(inC, height, width), le4_winograd_f2_scratch(outC, height, width))
        Threads.parallelFor(batch, chunks: Threads.chunks(batch)) { _, images in
            // v: [16, T, inC] transformed input tiles, m: [16, T, outC] their products with the filters
            var v = [Float](unsafeUninitializedCapacity: 16 * maxTiles * inC) { _, n in n = 16 * maxTiles * inC }
            var m = [Float](unsafeUninitializedCapacity: 16 * maxTiles * outC) { _, n in n = 16 * maxTiles * outC }
            var scratch = [Float](unsafeUninitializedCapacity: scratchSize) { _, n in n = scratchSize }
            v.withUnsafeMutableBufferPointer { vp in
                m.withUnsafeMutableBufferPointer { mp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        for first in Swift.stride(from: images.lowerBound, to: images.upperBound, by: group) {
                            let n = min(group, images.upperBound - first), tiles = n * tilesPerImage
                            le4_winograd_f2_input(isa.cValue, x + first * inC * imageSize, n, inC, height, width,
                                                  sp.baseAddress!, vp.baseAddress!)
                            for xi in 0 ..< 16 {  // m[ξ] (T×outC) = v[ξ] (T×inC) · u[ξ]ᵀ
                                gemm(transB: true, m: tiles, n: outC, k: inC, a: vp.baseAddress! + xi * tiles * inC, lda: inC,
                                     b: u + xi * outC * inC, ldb: inC, c: mp.baseAddress! + xi * tiles * outC, ldc: outC, isa: isa)
                            }
                            le4_winograd_f2_output(isa.cValue, mp.baseAddress!, n, outC, height, width, scale, shift,
                                                   relu ? 1 : 0, sp.baseAddress!, y + first * outC * imageSize)
                        }
                    }
                }
            }
        }
    }
}
