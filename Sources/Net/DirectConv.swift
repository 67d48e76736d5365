import Kernels

/// Convolution with 3×3 filters, stride 1, padding 1, computed directly (Kernels/conv3x3_direct.c)
/// for inputs of at most `maxChannels` channels: the first layer of a net, whose im2col GEMMs
/// would be only 9 or 27 deep and spend their time packing. (Measured on a Zen 4 EPYC: the first
/// layer of mnist-small took 10 % of a training step by im2col.)
enum DirectConv3x3 {
    static let maxChannels = 4

    // x: [B, inC, H, W], w: [outC, inC, 3, 3] → y: [B, outC, H, W]
    /// y = scale·(x ⊛ w) + shift per filter (nil scale: 1; nil shift: 0), then max(y, 0) if `relu`;
    /// the batch split across threads.
    static func convolve(_ x: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int, height: Int, width: Int,
                         filters w: UnsafePointer<Float>, scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
                         relu: Bool, into y: UnsafeMutablePointer<Float>, isa: ISA = .active) {
        let (inSize, outSize) = (inC * height * width, outC * height * width)
        Threads.parallelFor(batch) { images in
            var scratch = uninitializedFloats(le4_conv3x3_scratch(inC, height, width))
            for b in images {
                isa.kernels.conv3x3_forward(x + b * inSize, inC, height, width, w, outC, scale, shift, relu ? 1 : 0,
                                            &scratch, y + b * outSize)
            }
        }
    }

    // x: [B, inC, H, W], dy: [B, outC, H, W] → dW: [outC, inC, 3, 3]
    /// The filter gradient Σ_b dy_b ⋆ x_b: each thread sums its images, and the threads' sums are
    /// added in a fixed order.
    static func filterGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int,
                               height: Int, width: Int, into dW: UnsafeMutablePointer<Float>, isa: ISA = .active) {
        let (inSize, outSize, wSize) = (inC * height * width, outC * height * width, outC * inC * 9)
        let chunks = Threads.chunks(batch)
        var partial = [Float](repeating: 0, count: chunks * wSize)  // [chunk, outC, inC, 3, 3]
        partial.withUnsafeMutableBufferPointer { p in
            Threads.parallelFor(batch, chunks: chunks) { chunk, images in
                var scratch = uninitializedFloats(le4_conv3x3_scratch(inC, height, width))
                for b in images {
                    isa.kernels.conv3x3_filter_grad(x + b * inSize, inC, height, width, dy + b * outSize, outC,
                                                    &scratch, p.baseAddress! + chunk * wSize)
                }
            }
            Threads.sumChunks(p, chunks: chunks, size: wSize)
            dW.update(from: p.baseAddress!, count: wSize)
        }
    }

    // dy: [B, outC, H, W], w: [outC, inC, 3, 3] → dx: [B, inC, H, W]
    /// The input gradient: the convolution of dy with the filters rotated by 180°, in and out swapped.
    /// (Only the first trained layer's input gradient is never needed; this serves a few-channel layer deeper in.)
    static func inputGradient(_ dy: UnsafePointer<Float>, batch: Int, inC: Int, outC: Int, height: Int, width: Int,
                              filters w: [Float], into dx: UnsafeMutablePointer<Float>, isa: ISA = .active) {
        let rotated = (0 ..< inC * outC * 9).map { i in  // [inC, outC, 3, 3]
            let (c, k, t) = (i / (outC * 9), i / 9 % outC, i % 9)
            return w[(k * inC + c) * 9 + 8 - t]
        }
        convolve(dy, batch: batch, inC: outC, outC: inC, height: height, width: width, filters: rotated,
                 scale: nil, shift: nil, relu: false, into: dx, isa: isa)
    }
}
