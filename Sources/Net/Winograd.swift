import CKernels

/// Convolution with 3×3 filters, stride 1, padding 1, by Winograd F(2×2, 3×3) (Kernels/winograd.c):
/// 16 GEMMs of transformed input tiles and transformed filters replace the 9·C-deep im2col GEMM,
/// with 2.25× fewer multiplications; likewise the filter gradient, as the exact gradient of that
/// computation (it is linear in the transformed filters). Images are taken in groups whose transformed tiles
/// (16·T·(C + K) floats) fit in about `groupBytes`, so they stay in the core's L2 cache between the
/// transforms and the GEMMs.
enum WinogradF2 {
    static let groupBytes = 1 << 21

    /// The filters W [outC, inC, 3, 3] transformed: [16, outC, inC]; with `flip`, the filters of the
    /// input gradient (rotated 180°, in and out swapped): [16, inC, outC].
    static func filters(_ w: [Float], outC: Int, inC: Int, flip: Bool) -> [Float] {
        [Float](unsafeUninitializedCapacity: 16 * outC * inC) { u, n in
            le4_winograd_f2_filter(outC, inC, w, flip ? 1 : 0, u.baseAddress!)
            n = 16 * outC * inC
        }
    }

    /// Images per group for convolutions from `inC` to `outC` channels on H×W images.
    static func groupSize(batch: Int, inC: Int, outC: Int, tilesPerImage: Int) -> Int {
        max(1, min(batch, groupBytes / (64 * (inC + outC) * tilesPerImage)))
    }

    /// An uninitialized buffer of `count` floats.
    static func buffer(_ count: Int) -> [Float] { [Float](unsafeUninitializedCapacity: count) { _, n in n = count } }

    // x: [B, inC, H, W] → y: [B, outC, H, W]; u: [16, outC, inC]
    /// y = scale·(x ⊛ filters) + shift per output channel (nil scale: 1; nil shift: 0), then max(y, 0)
    /// if `relu`. The batch is split across threads, each with its own transform buffers.
    static func convolve(_ x: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int, height: Int, width: Int,
                         filters u: UnsafePointer<Float>, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                         relu: Bool, into y: UnsafeMutablePointer<Float>, isa: ISA = .active) {
        let tilesPerImage = ((height + 1) / 2) * ((width + 1) / 2), imageSize = height * width
        let group = groupSize(batch: batch, inC: inC, outC: outC, tilesPerImage: tilesPerImage)
        let scratchSize = max(le4_winograd_f2_scratch(inC, height, width), le4_winograd_f2_scratch(outC, height, width))
        Threads.parallelFor(batch, chunks: Threads.chunks(batch)) { _, images in
            // v: [16, T, inC] transformed input tiles, m: [16, T, outC] their products with the filters
            var v = buffer(16 * group * tilesPerImage * inC), m = buffer(16 * group * tilesPerImage * outC)
            var scratch = buffer(scratchSize)
            for first in Swift.stride(from: images.lowerBound, to: images.upperBound, by: group) {
                let n = min(group, images.upperBound - first), tiles = n * tilesPerImage
                le4_winograd_f2_input(isa.cValue, x + first * inC * imageSize, n, inC, height, width, &scratch, &v)
                v.withUnsafeBufferPointer { vp in
                    m.withUnsafeMutableBufferPointer { mp in
                        for xi in 0 ..< 16 {  // m[ξ] (T×outC) = v[ξ] (T×inC) · u[ξ]ᵀ
                            gemm(transB: true, m: tiles, n: outC, k: inC, a: vp.baseAddress! + xi * tiles * inC, lda: inC,
                                 b: u + xi * outC * inC, ldb: inC, c: mp.baseAddress! + xi * tiles * outC, ldc: outC, isa: isa)
                        }
                    }
                }
                le4_winograd_f2_output(isa.cValue, m, n, outC, height, width, scale, shift, relu ? 1 : 0,
                                       &scratch, y + first * outC * imageSize)
            }
        }
    }

    // x: [B, inC, H, W], dy: [B, outC, H, W] → dW: [outC, inC, 3, 3]
    /// The filter gradient of `convolve`: du[ξ] (outC×inC) = Σ_t w[ξ][t]ᵀ·v[ξ][t], with v the
    /// transformed input tiles and w the transformed output-gradient tiles, then dW = Gᵀ·du·G.
    /// Each thread sums its images; the threads' sums are added in a fixed order.
    static func filterGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int,
                               height: Int, width: Int, into dW: UnsafeMutablePointer<Float>, isa: ISA = .active) {
        let tilesPerImage = ((height + 1) / 2) * ((width + 1) / 2), imageSize = height * width
        let group = groupSize(batch: batch, inC: inC, outC: outC, tilesPerImage: tilesPerImage)
        let scratchSize = max(le4_winograd_f2_scratch(inC, height, width), le4_winograd_f2_scratch(outC, height, width))
        let chunks = Threads.chunks(batch), uSize = 16 * outC * inC
        var du = buffer(chunks * uSize)  // [chunk, 16, outC, inC]
        du.withUnsafeMutableBufferPointer { dup in
            Threads.parallelFor(batch, chunks: chunks) { chunk, images in
                var v = buffer(16 * group * tilesPerImage * inC), w = buffer(16 * group * tilesPerImage * outC)
                var scratch = buffer(scratchSize)
                let sum = dup.baseAddress! + chunk * uSize
                for first in Swift.stride(from: images.lowerBound, to: images.upperBound, by: group) {
                    let n = min(group, images.upperBound - first), tiles = n * tilesPerImage
                    le4_winograd_f2_input(isa.cValue, x + first * inC * imageSize, n, inC, height, width, &scratch, &v)
                    le4_winograd_f2_output_grad(isa.cValue, dy + first * outC * imageSize, n, outC, height, width, &scratch, &w)
                    v.withUnsafeBufferPointer { vp in
                        w.withUnsafeBufferPointer { wp in
                            for xi in 0 ..< 16 {  // du[ξ] (outC×inC) += w[ξ]ᵀ (outC×T) · v[ξ] (T×inC)
                                gemm(transA: true, m: outC, n: inC, k: tiles, a: wp.baseAddress! + xi * tiles * outC, lda: outC,
                                     b: vp.baseAddress! + xi * tiles * inC, ldb: inC, beta: first == images.lowerBound ? 0 : 1,
                                     c: sum + xi * outC * inC, ldc: inC, isa: isa)
                            }
                        }
                    }
                }
            }
            for c in 1 ..< chunks { for i in 0 ..< uSize { dup[i] += dup[c * uSize + i] } }
            le4_winograd_f2_filter_grad(outC, inC, dup.baseAddress!, dW)
        }
    }
}
