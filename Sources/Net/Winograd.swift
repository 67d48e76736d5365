import CKernels

/// Convolution with 3×3 filters, stride 1, padding 1, by Winograd F(2×2, 3×3) (Kernels/winograd.c):
/// 16 GEMMs of transformed filters and transformed input tiles replace the 9·C-deep im2col GEMM,
/// 2.25× fewer multiplications. Images are taken in groups of about `tilesPerGroup` tiles so that
/// the transformed tiles of a group stay in cache between the transforms and the GEMMs.
enum WinogradF2 {
    static let tilesPerGroup = 512

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
        let group = max(1, min(batch, tilesPerGroup / tilesPerImage))
        let ld = group * tilesPerImage  // columns of the transformed-tile matrices
        let imageSize = height * width
        Threads.parallelFor(batch, chunks: Threads.chunks(batch)) { _, images in
            var v = [Float](unsafeUninitializedCapacity: 16 * inC * ld) { _, n in n = 16 * inC * ld }
            var m = [Float](unsafeUninitializedCapacity: 16 * outC * ld) { _, n in n = 16 * outC * ld }
            v.withUnsafeMutableBufferPointer { vp in
                m.withUnsafeMutableBufferPointer { mp in
                    for first in Swift.stride(from: images.lowerBound, to: images.upperBound, by: group) {
                        let n = min(group, images.upperBound - first), tiles = n * tilesPerImage
                        le4_winograd_f2_input(isa.cValue, x + first * inC * imageSize, n, inC, height, width, vp.baseAddress!, ld)
                        for xi in 0 ..< 16 {
                            gemm(m: outC, n: tiles, k: inC, a: u + xi * outC * inC, lda: inC,
                                 b: vp.baseAddress! + xi * inC * ld, ldb: ld, c: mp.baseAddress! + xi * outC * ld, ldc: ld, isa: isa)
                        }
                        le4_winograd_f2_output(isa.cValue, mp.baseAddress!, ld, n, outC, height, width, scale, shift,
                                               relu ? 1 : 0, y + first * outC * imageSize)
                    }
                }
            }
        }
    }
}
