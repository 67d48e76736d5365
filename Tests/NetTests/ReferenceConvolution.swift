// The plain reference the fast convolutions are tested against.

/// y[b, k, i, j] = Σ_c,u,v w[k, c, u, v]·x[b, c, i + u − 1, j + v − 1] (zero padding 1).
func referenceConvolution3x3(_ x: [Float], _ w: [Float], batch: Int, inC: Int, outC: Int, h: Int, wd: Int) -> [Double] {
    var y = [Double](repeating: 0, count: batch * outC * h * wd)
    for b in 0 ..< batch {
        for k in 0 ..< outC {
            for i in 0 ..< h {
                for j in 0 ..< wd {
                    var s = 0.0
                    for c in 0 ..< inC {
                        for u in 0 ..< 3 {
                            for v in 0 ..< 3 {
                                let (yi, xj) = (i + u - 1, j + v - 1)
                                guard yi >= 0, yi < h, xj >= 0, xj < wd else { continue }
                                s += Double(w[((k * inC + c) * 3 + u) * 3 + v]) * Double(x[((b * inC + c) * h + yi) * wd + xj])
                            }
                        }
                    }
                    y[((b * outC + k) * h + i) * wd + j] = s
                }
            }
        }
    }
    return y
}
