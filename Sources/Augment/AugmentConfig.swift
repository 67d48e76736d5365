import Foundation
import LE4Data

/// A selection of data augmentations with every parameter resolved, as given on the command line
/// (`--augment`) and stored in model metadata.
///
/// Syntax: `none` (or the empty string), or a comma-separated list of the names `crop`, `flip`,
/// `erasing`, `cutout`, `mixup` in any order, each optionally followed by `:key=value` pairs,
/// e.g. `crop:pad=3,cutout:size=10:fill=mean,mixup:alpha=0.4`. Whatever the spelling order, the
/// augmentations are applied as crop, flip, erasing, cutout, mixup.
public struct AugmentConfig: Equatable, Sendable, CustomStringConvertible {
    var crop: RandomCrop?
    var flip: HorizontalFlip?
    var erasing: RandomErasing?
    var cutout: Cutout?
    var mixup: Mixup?

    /// The empty selection: no augmentation.
    public static let none = AugmentConfig()

    init(crop: RandomCrop? = nil, flip: HorizontalFlip? = nil, erasing: RandomErasing? = nil,
         cutout: Cutout? = nil, mixup: Mixup? = nil) {
        self.crop = crop; self.flip = flip; self.erasing = erasing; self.cutout = cutout; self.mixup = mixup
    }

    /// True when nothing is selected.
    public var isEmpty: Bool { crop == nil && flip == nil && erasing == nil && cutout == nil && mixup == nil }

    /// True when mixup is selected (targets then stop being one-hot).
    public var usesMixup: Bool { mixup != nil }

    /// Canonical spelling with every parameter written out, in application order, e.g.
    /// `"crop:pad=2:mode=zero,mixup:alpha=0.2"`; `"none"` when empty. Parsing it again
    /// (with the same image geometry) gives an equal config.
    public var description: String {
        let parts = [crop?.spelling, flip?.spelling, erasing?.spelling, cutout?.spelling, mixup?.spelling]
            .compactMap { $0 }
        return parts.isEmpty ? "none" : parts.joined(separator: ",")
    }

    /// Parses a selection; image geometry decides defaults and what is allowed (flip needs C == 3).
    /// Throws ``AugmentError`` naming the offending part and listing what is accepted.
    public init(parsing spec: String, channels: Int, height: Int, width: Int) throws {
        precondition(channels > 0 && height > 0 && width > 0, "bad image geometry")
        let whole = spec.trimmingCharacters(in: .whitespaces)
        self.init()
        if whole.isEmpty || whole == "none" { return }

        func failure(_ part: String, _ why: String) -> AugmentError {
            AugmentError("invalid augmentation \(quote(whole)): in \(quote(part)): \(why)\n"
                         + Self.acceptedSyntax(channels: channels, height: height, width: width))
        }
        var seen: Set<String> = []
        for rawEntry in whole.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces)
            var fields = entry.split(separator: ":", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let name = fields.removeFirst()
            if name.isEmpty { throw failure(entry, "missing augmentation name") }
            if name == "none" { throw failure(entry, "\"none\" cannot be combined with other augmentations") }
            guard let keys = Self.keys[name] else {
                let hint = Self.closestName(to: name).map { "; did you mean \($0)?" } ?? ""
                throw failure(entry, "unknown augmentation \(quote(name))\(hint)")
            }
            if !seen.insert(name).inserted { throw failure(entry, "\(quote(name)) is selected twice") }

            var values: [String: String] = [:]
            for field in fields {
                guard let eq = field.firstIndex(of: "=") else {
                    throw failure(entry, "\(quote(field)) is not a key=value pair")
                }
                let key = field[..<eq].trimmingCharacters(in: .whitespaces)
                let value = field[field.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                guard keys.contains(key) else {
                    throw failure(entry, "unknown key \(quote(key)) for \(name) (\(name) accepts "
                                  + keys.joined(separator: ", ") + ")")
                }
                if value.isEmpty { throw failure(entry, "\(key) has no value") }
                if values.updateValue(value, forKey: key) != nil { throw failure(entry, "\(key) is given twice") }
            }

            func int(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
                guard let text = values[key] else { return fallback }
                guard let v = Int(text), range.contains(v) else {
                    throw failure(entry, "\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(quote(text))")
                }
                return v
            }
            func real(_ key: String, _ fallback: Double, _ rule: String, _ ok: (Double) -> Bool) throws -> Double {
                guard let text = values[key] else { return fallback }
                guard let v = Double(text), v.isFinite, ok(v) else {
                    throw failure(entry, "\(key) must be a number \(rule), got \(quote(text))")
                }
                return v
            }
            func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ fallback: T) throws -> T
            where T.RawValue == String {
                guard let text = values[key] else { return fallback }
                guard let v = T(rawValue: text) else {
                    throw failure(entry, "\(key) must be one of " + T.allCases.map(\.rawValue).joined(separator: ", ")
                                  + ", got \(quote(text))")
                }
                return v
            }

            let side = min(height, width)
            switch name {
            case RandomCrop.name:
                crop = RandomCrop(pad: try int("pad", RandomCrop.defaultPad(height: height, width: width), 0...(side - 1)),
                                  mode: try choice("mode", RandomCrop.Mode.zero))
            case HorizontalFlip.name:
                if channels != 3 {
                    throw failure(entry, "flip is for colour images; digits must not be mirrored "
                                  + "(these images have \(channels) channel\(channels == 1 ? "" : "s"))")
                }
                flip = HorizontalFlip(p: try real("p", 0.5, "in [0, 1]") { (0...1).contains($0) })
            case RandomErasing.name:
                let d = RandomErasing.standard
                let e = RandomErasing(
                    p: try real("p", d.p, "in [0, 1]") { (0...1).contains($0) },
                    smin: try real("smin", d.smin, "in (0, 1]") { $0 > 0 && $0 <= 1 },
                    smax: try real("smax", d.smax, "in (0, 1]") { $0 > 0 && $0 <= 1 },
                    rmin: try real("rmin", d.rmin, "in [0.001, 1000]") { (0.001 ... 1000).contains($0) },
                    rmax: try real("rmax", d.rmax, "in [0.001, 1000]") { (0.001 ... 1000).contains($0) })
                if e.smin > e.smax { throw failure(entry, "smin (\(e.smin)) must not exceed smax (\(e.smax))") }
                if e.rmin > e.rmax { throw failure(entry, "rmin (\(e.rmin)) must not exceed rmax (\(e.rmax))") }
                erasing = e
            case Cutout.name:
                cutout = Cutout(size: try int("size", Cutout.defaultSize(height: height, width: width),
                                              1...max(height, width)),
                                fill: try choice("fill", Cutout.Fill.zero))
            case Mixup.name:
                mixup = Mixup(alpha: try real("alpha", 0.2, "> 0") { $0 > 0 })
            default:
                fatalError("unhandled augmentation \(name)")
            }
        }
    }

    /// The keys each augmentation accepts, in application order.
    static let keys: [String: [String]] = [
        RandomCrop.name: RandomCrop.keys, HorizontalFlip.name: HorizontalFlip.keys,
        RandomErasing.name: RandomErasing.keys, Cutout.name: Cutout.keys, Mixup.name: Mixup.keys,
    ]

    /// The augmentation name a misspelt `name` most likely means: the nearest within two edits
    /// (insertions, deletions, substitutions), e.g. `erasing` for `erasng`; nil when none is that near.
    static func closestName(to name: String) -> String? {
        let typed = Array(name.unicodeScalars)
        guard typed.count <= 20 else { return nil }
        func distance(_ b: [Unicode.Scalar]) -> Int {
            var previous = Array(0 ... b.count)
            for (i, x) in typed.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
        return keys.keys.map { ($0, distance(Array($0.unicodeScalars))) }.filter { $0.1 <= 2 }
            .min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// What `init(parsing:…)` accepts for images of this shape, with the defaults spelled out
    /// (used in every parse error; suitable for `--help`).
    public static func acceptedSyntax(channels: Int, height: Int, width: Int) -> String {
        let side = min(height, width)
        let defaults = AugmentConfig(
            crop: RandomCrop(pad: RandomCrop.defaultPad(height: height, width: width), mode: .zero),
            flip: HorizontalFlip(p: 0.5), erasing: .standard,
            cutout: Cutout(size: Cutout.defaultSize(height: height, width: width), fill: .zero),
            mixup: Mixup(alpha: 0.2))
        let rows: [(String, String)] = [
            (defaults.crop!.spelling, "pad 0...\(side - 1); mode zero|reflect"),
            (defaults.flip!.spelling, "p in [0, 1]; colour (3-channel) images only"
                + (channels == 3 ? "" : ", so not for these")),
            (defaults.erasing!.spelling, "p in [0, 1]; 0 < smin <= smax <= 1; 0.001 <= rmin <= rmax <= 1000"),
            (defaults.cutout!.spelling, "size 1...\(max(height, width)); fill zero|mean"),
            (defaults.mixup!.spelling, "alpha > 0"),
        ]
        let width0 = rows.map(\.0.count).max()!
        return "accepted: \"none\", or a comma-separated list of crop, flip, erasing, cutout, mixup, "
            + "each optionally followed by :key=value pairs (defaults shown for \(channels)×\(height)×\(width) images):\n"
            + rows.map { "  " + $0.0 + String(repeating: " ", count: width0 - $0.0.count + 2) + $0.1 }
                .joined(separator: "\n")
    }
}

/// A rejected augmentation selection; the message names the offending part and lists what is accepted.
public struct AugmentError: Error, LocalizedError, CustomStringConvertible, Equatable {
    /// The full message.
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
