import Dispatch
import XCTest
@testable import Augment
import LE4Data

/// Seeded runs must stay bit-identical across refactorings of the augmenter: these hashes of
/// augmented batches were recorded with the code as it stood before the augmentations became
/// table-driven (the commit that added this file; stroke, affine and elastic when they were added).
/// A change here means every seeded training run with that selection changes too.
final class GoldenTests: XCTestCase {
    struct Golden { let spec: String; let channels: Int; let side: Int; let hash: UInt64; let canonical: String }

    static let goldens = [
        Golden(spec: "crop", channels: 1, side: 28, hash: 0xD9E1_24B0_A7A5_7870,
               canonical: "crop:pad=2:mode=zero"),
        Golden(spec: "crop:pad=3:mode=reflect", channels: 3, side: 32, hash: 0x5E96_BF09_BE9B_A6A1,
               canonical: "crop:pad=3:mode=reflect"),
        Golden(spec: "flip", channels: 3, side: 32, hash: 0xEF49_3E90_B23E_8913,
               canonical: "flip:p=0.5:mode=random"),
        Golden(spec: "flip:p=0.3", channels: 3, side: 32, hash: 0xD59A_06F2_0BC9_139D,
               canonical: "flip:p=0.3:mode=random"),
        Golden(spec: "erasing", channels: 1, side: 28, hash: 0xC964_00FF_8EBC_B661,
               canonical: "erasing:p=0.5:smin=0.02:smax=0.33:rmin=0.3:rmax=3.3"),
        Golden(spec: "erasing:p=1:smin=0.1:smax=0.2:rmin=0.5:rmax=2", channels: 3, side: 32, hash: 0x5674_A40E_0439_1937,
               canonical: "erasing:p=1.0:smin=0.1:smax=0.2:rmin=0.5:rmax=2.0"),
        Golden(spec: "cutout", channels: 1, side: 28, hash: 0xAE27_B98C_506E_11BD,
               canonical: "cutout:size=8:fill=zero"),
        Golden(spec: "cutout:size=10:fill=mean", channels: 3, side: 32, hash: 0x38BD_E027_DD83_7E1E,
               canonical: "cutout:size=10:fill=mean"),
        Golden(spec: "mixup", channels: 1, side: 28, hash: 0x75DF_D038_0825_A51B,
               canonical: "mixup:alpha=0.2"),
        Golden(spec: "mixup:alpha=1", channels: 3, side: 32, hash: 0x42E0_879A_0CAD_E4A5,
               canonical: "mixup:alpha=1.0"),
        Golden(spec: "crop,erasing,cutout,mixup", channels: 1, side: 28, hash: 0x7BF9_BB38_FDFA_1AB5,
               canonical: "crop:pad=2:mode=zero,erasing:p=0.5:smin=0.02:smax=0.33:rmin=0.3:rmax=3.3,cutout:size=8:fill=zero,mixup:alpha=0.2"),
        Golden(spec: "crop:mode=reflect,flip,erasing,cutout:fill=mean,mixup:alpha=0.4", channels: 3, side: 32, hash: 0x19C7_294E_6B0C_73C9,
               canonical: "crop:pad=4:mode=reflect,flip:p=0.5:mode=random,erasing:p=0.5:smin=0.02:smax=0.33:rmin=0.3:rmax=3.3,cutout:size=16:fill=mean,mixup:alpha=0.4"),
        // Recorded when these were added, so that later changes to them show up too. They go through
        // sin, cos and exp, so a libm other than this x86-64 glibc's might round a last bit differently.
        Golden(spec: "stroke", channels: 1, side: 28, hash: 0x6136_5216_1D62_8462, canonical: "stroke:amount=0.4"),
        Golden(spec: "affine", channels: 1, side: 28, hash: 0x6FC7_316F_23BC_8D3C,
               canonical: "affine:rotate=15.0:scale=0.15:shear=0.1:shift=0.1"),
        Golden(spec: "elastic", channels: 1, side: 28, hash: 0x09B6_CF9C_F94F_CC2B, canonical: "elastic:alpha=16.0:sigma=4.0"),
        Golden(spec: "stroke:amount=0.7,affine:rotate=30,elastic:alpha=34,crop:pad=3:mode=reflect,flip,mixup",
               channels: 3, side: 32, hash: 0xAD43_99D9_6E07_6412,
               canonical: "stroke:amount=0.7,affine:rotate=30.0:scale=0.15:shear=0.1:shift=0.1,elastic:alpha=34.0:sigma=4.0,"
                   + "crop:pad=3:mode=reflect,flip:p=0.5:mode=random,mixup:alpha=0.2"),
    ]

    /// FNV-1a over the bit patterns of the augmented images and targets of two steps.
    static func hash(spec: String, channels: Int, side: Int,
                     split: Augmenter.Split = { n, body in body(0 ..< n) }) throws -> UInt64 {
        let batch = 16, classes = 10, n = channels * side * side
        let config = try AugmentConfig(parsing: spec, channels: channels, height: side, width: side)
        var augmenter = Augmenter(config: config, channels: channels, height: side, width: side)
        let x = Synthetic.random(count: batch * n, seed: 2024)
        let t = Synthetic.smoothed(batch: batch, classes: classes)
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for (epoch, step) in [(0, 0), (3, 11)] {
            let out = augmented(&augmenter, x: x, targets: t, batch: batch, classes: classes, seed: 77,
                                epoch: epoch, step: step, split: split)
            for v in out.x + out.targets {
                h = (h ^ UInt64(v.bitPattern)) &* 0x100_0000_01B3
            }
        }
        return h
    }

    func testSeededBatchesAreBitIdenticalToTheRecordedOnes() throws {
        for g in Self.goldens {
            let h = try Self.hash(spec: g.spec, channels: g.channels, side: g.side)
            XCTAssertEqual(h, g.hash, "\(g.spec) on \(g.channels)×\(g.side)×\(g.side): got 0x\(String(h, radix: 16))")
            let config = try AugmentConfig(parsing: g.spec, channels: g.channels, height: g.side, width: g.side)
            XCTAssertEqual(config.description, g.canonical, "canonical spelling of \(g.spec): got <\(config.description)>")
        }
    }

    /// Training splits each batch's per-image augmentations across threads: three uneven ranges
    /// run at once must give the recorded batches too.
    func testBatchesSplitAcrossThreadsAreBitIdenticalToTheRecordedOnes() throws {
        let split: Augmenter.Split = { n, body in
            let bounds = [0, n / 5, n / 2, n]
            DispatchQueue.concurrentPerform(iterations: 3) { c in body(bounds[c] ..< bounds[c + 1]) }
        }
        for g in Self.goldens {
            let h = try Self.hash(spec: g.spec, channels: g.channels, side: g.side, split: split)
            XCTAssertEqual(h, g.hash, "\(g.spec) on \(g.channels)×\(g.side)×\(g.side), split in three: got 0x\(String(h, radix: 16))")
        }
    }
}
