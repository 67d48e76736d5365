import XCTest
@testable import Augment

final class ConfigTests: XCTestCase {
    func parse(_ s: String, _ c: Int = 1, _ side: Int = 28) throws -> AugmentConfig {
        try AugmentConfig(parsing: s, channels: c, height: side, width: side)
    }

    func testExamplesParse() throws {
        let a = try parse("crop:pad=3,cutout:size=10,mixup:alpha=0.4")
        XCTAssertEqual(a[RandomCrop.self], RandomCrop(pad: 3, mode: .zero))
        XCTAssertEqual(a[Cutout.self], Cutout(size: 10, fill: .zero))
        XCTAssertEqual(a[Mixup.self], Mixup(alpha: 0.4))
        XCTAssertNil(a[RandomErasing.self])
        let b = try parse("erasing:p=0.3:smin=0.02:smax=0.4:rmin=0.3:rmax=3.3")
        XCTAssertEqual(b[RandomErasing.self], RandomErasing(p: 0.3, smin: 0.02, smax: 0.4, rmin: 0.3, rmax: 3.3))
        XCTAssertEqual(try parse("crop:pad=4:mode=reflect", 3, 32)[RandomCrop.self], RandomCrop(pad: 4, mode: .reflect))
        XCTAssertEqual(try parse("cutout:size=12:fill=mean")[Cutout.self], Cutout(size: 12, fill: .mean))
        XCTAssertEqual(try parse(" crop : pad = 3 , mixup ")[RandomCrop.self]?.pad, 3, "spaces around parts are tolerated")
        XCTAssertEqual(try parse("flip:p=0.25", 3, 32)[HorizontalFlip.self], HorizontalFlip(p: 0.25))
    }

    func testNoneAndEmpty() throws {
        for s in ["", "none", "  none "] {
            let c = try parse(s)
            XCTAssertTrue(c.isEmpty); XCTAssertFalse(c.usesMixup)
            XCTAssertEqual(c, .none); XCTAssertEqual(c.description, "none")
        }
        XCTAssertFalse(try parse("cutout").isEmpty)
        XCTAssertTrue(try parse("cutout,mixup").usesMixup)
    }

    func testDefaultsAndCanonicalSpelling() throws {
        XCTAssertEqual(try parse("mixup,cutout,erasing,crop").description,
                       "crop:pad=2:mode=zero,erasing:p=0.5:smin=0.02:smax=0.33:rmin=0.3:rmax=3.3,"
                       + "cutout:size=8:fill=zero,mixup:alpha=0.2")
        XCTAssertEqual(try parse("crop,flip,cutout", 3, 32).description, "crop:pad=4:mode=zero,flip:p=0.5:mode=random,cutout:size=16:fill=zero")
        XCTAssertEqual(try parse("mixup,crop"), try parse("crop,mixup"))
        XCTAssertEqual(try parse("crop,elastic,stroke,affine").description,
                       "stroke:amount=0.4,affine:rotate=15.0:scale=0.15:shear=0.1:shift=0.1,elastic:alpha=16.0:sigma=4.0,"
                       + "crop:pad=2:mode=zero")
    }

    func testDescriptionRoundTrips() throws {
        let specs: [(String, Int, Int)] = [
            ("crop:pad=3,cutout:size=10,mixup:alpha=0.4", 1, 28),
            ("erasing:p=0.3:smin=0.02:smax=0.4:rmin=0.3:rmax=3.3", 1, 28),
            ("crop:pad=4:mode=reflect", 3, 32), ("cutout:size=12:fill=mean", 1, 28),
            ("crop,erasing,cutout,mixup", 1, 28), ("crop,flip,erasing,cutout,mixup", 3, 32),
            ("mixup:alpha=0.123456789", 1, 28), ("erasing:smin=1e-3:smax=0.1", 1, 28), ("none", 1, 28),
            ("elastic:sigma=2.5,affine:rotate=7.5:shift=0,stroke:amount=0.3", 1, 28), ("affine,elastic,stroke", 3, 32),
        ]
        for (s, c, side) in specs {
            let config = try parse(s, c, side)
            let again = try parse(config.description, c, side)
            XCTAssertEqual(again, config, s)
            XCTAssertEqual(again.description, config.description)
        }
    }

    func testBadSelectionsAreRejectedWithHelp() {
        let bad: [(spec: String, mentions: String)] = [
            ("crops", "unknown augmentation 'crops'"), ("crop,crop", "selected twice"),
            ("crop:padding=3", "unknown key 'padding'"), ("crop:pad=-1", "pad must be an integer in 0...27"),
            ("crop:pad=x", "got 'x'"), ("crop:pad=28", "0...27"), ("crop:pad=2.5", "integer"),
            ("crop:mode=mirror", "zero, reflect"), ("crop:pad", "'pad' is not a key=value pair"),
            ("crop:pad=", "pad has no value"), ("crop:pad=2:pad=3", "pad is given twice"),
            ("erasing:p=1.5", "p must be a number in [0, 1]"), ("erasing:p=-0.1", "in [0, 1]"),
            ("erasing:smin=0.5:smax=0.2", "smin (0.5) must not exceed smax (0.2)"),
            ("erasing:rmin=3:rmax=1", "must not exceed rmax"), ("erasing:rmin=0", "rmin must be a number in [0.001, 1000]"), ("erasing:rmax=1e40", "rmax must be a number in [0.001, 1000]"),
            ("erasing:smax=2", "smax must be a number in (0, 1]"),
            ("mixup:alpha=0", "alpha must be a number > 0"), ("mixup:alpha=-1", "alpha"),
            ("mixup:alpha=nan", "alpha"), ("mixup:alpha=inf", "alpha"),
            ("cutout:size=0", "size must be an integer in 1...28"), ("cutout:fill=noise", "zero, mean"),
            ("crop,,mixup", "missing augmentation name"), ("crop,", "missing augmentation name"),
            ("none,crop", "cannot be combined"), ("flip", "digits must not be mirrored"),
            ("Crop", "unknown augmentation"), ("mixup:p=0.5", "mixup accepts alpha"),
            ("affine:rotate=181", "rotate must be a number in [0, 180], got '181'"),
            ("affine:scale=0.6", "scale must be a number in [0, 0.5]"), ("affine:shear=-0.1", "shear must be a number in [0, 1]"),
            ("affine:shift=1", "shift must be a number in [0, 0.5]"), ("affine:angle=5", "affine accepts rotate, scale, shear, shift"),
            ("elastic:alpha=101", "alpha must be a number in [0, 100]"), ("elastic:sigma=0.4", "sigma must be a number in [0.5, 8]"),
            ("elastic:sigma=nan", "sigma must be a number"), ("stroke:amount=1.5", "amount must be a number in [0, 1]"),
            ("stroke:amount=-0.1", "amount must be a number in [0, 1]"),
        ]
        for (spec, mentions) in bad {
            XCTAssertThrowsError(try parse(spec), spec) { error in
                let message = "\(error)"
                XCTAssertEqual(error.localizedDescription, message)
                XCTAssert(message.contains(mentions), "\(spec): \(message)")
                XCTAssert(message.contains(spec), "message should quote the selection: \(message)")
                // The accepted names, keys and defaults are listed.
                for listed in ["crop:pad=2:mode=zero", "flip:p=0.5:mode=random", "erasing:p=0.5:smin=0.02:smax=0.33:rmin=0.3:rmax=3.3",
                               "cutout:size=8:fill=zero", "mixup:alpha=0.2", "\"none\"", "stroke:amount=0.4",
                               "affine:rotate=15.0:scale=0.15:shear=0.1:shift=0.1", "elastic:alpha=16.0:sigma=4.0"] {
                    XCTAssert(message.contains(listed), "\(spec): message lacks \(listed): \(message)")
                }
            }
        }
    }

    func testAMisspeltNameGetsTheNearestAsASuggestion() {
        XCTAssertThrowsError(try parse("crop,erasng")) { XCTAssertTrue("\($0)".contains("did you mean erasing?"), "\($0)") }
        XCTAssertThrowsError(try parse("cutuot")) { XCTAssertTrue("\($0)".contains("did you mean cutout?"), "\($0)") }
        XCTAssertThrowsError(try parse("twirl")) { XCTAssertFalse("\($0)".contains("did you mean"), "nothing is that near: \($0)") }
    }

    func testAcceptedSyntaxFollowsGeometry() {
        let text = AugmentConfig.acceptedSyntax(channels: 3, height: 32, width: 32)
        XCTAssert(text.contains("crop:pad=4:mode=zero") && text.contains("cutout:size=16:fill=zero"), text)
        XCTAssert(text.contains("pad 0...31"), text)
    }
}
