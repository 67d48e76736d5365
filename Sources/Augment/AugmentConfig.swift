import Foundation
import LE4Data

/// A selection of data augmentations with every parameter resolved, as given on the command line
/// (`--augment`) and stored in model metadata.
///
/// Syntax: `none` (or the empty string), or a comma-separated list of names from
/// ``AugmentationTable`` (`crop`, `erasing`, `affine`, ...) in any order, each optionally followed
/// by `:key=value` pairs, e.g. `crop:pad=3,cutout:size=10:fill=mean,mixup:alpha=0.4`. Whatever the
/// spelling order, the augmentations are applied in the table's order.
public struct AugmentConfig: Equatable, Sendable, CustomStringConvertible {
    /// One selected augmentation with its table entry.
    struct Step: Sendable {
        let entry: AugmentationTable.Entry
        let augmentation: any Augmentation
    }

    /// The selection, in application order.
    let steps: [Step]
    /// `mirrorable` as parsed (nil: the default).
    let mirrorable: Bool?
    /// The images the selection was parsed for (nil: `none`, which fits any): its parameters were
    /// checked against them.
    let geometry: ImageGeometry?

    /// The empty selection: no augmentation.
    public static let none = AugmentConfig(steps: [], mirrorable: nil, geometry: nil)

    init(steps: [Step], mirrorable: Bool?, geometry: ImageGeometry?) {
        self.steps = steps
        self.mirrorable = mirrorable
        self.geometry = geometry
    }

    /// True when nothing is selected.
    public var isEmpty: Bool { steps.isEmpty }

    /// True when mixup is selected (targets then stop being one-hot).
    public var usesMixup: Bool { self[Mixup.self] != nil }

    /// The selected augmentation of type `A`, if any.
    subscript<A: Augmentation>(_ type: A.Type) -> A? {
        steps.lazy.compactMap { $0.augmentation as? A }.first
    }

    public static func == (a: AugmentConfig, b: AugmentConfig) -> Bool {
        a.steps.count == b.steps.count
            && zip(a.steps, b.steps).allSatisfy { $0.augmentation.isEqual(to: $1.augmentation) }
    }

    /// Canonical spelling with every parameter written out, in application order, e.g.
    /// `"crop:pad=2:mode=zero,mixup:alpha=0.2"`; `"none"` when empty. Parsing it again
    /// (with the same image geometry) gives an equal config.
    public var description: String {
        steps.isEmpty ? "none" : steps.map(\.augmentation.spelling).joined(separator: ",")
    }

    /// Parses a selection; image geometry decides defaults and what is allowed. `mirrorable`:
    /// whether an image and its mirror show the same class, which allows flip (CIFAR-10,
    /// Fashion-MNIST; not digits); by default colour images only.
    /// Throws ``AugmentError`` naming the offending part and listing what is accepted.
    public init(parsing spec: String, channels: Int, height: Int, width: Int, mirrorable: Bool? = nil) throws {
        precondition(channels > 0 && height > 0 && width > 0, "bad image geometry")
        let g = ImageGeometry(channels: channels, height: height, width: width, mirrorable: mirrorable)
        let whole = spec.trimmingCharacters(in: .whitespaces)
        if whole.isEmpty || whole == "none" { self.init(steps: [], mirrorable: mirrorable, geometry: nil); return }

        func failure(_ part: String, _ why: String) -> AugmentError {
            AugmentError("invalid augmentation \(quote(whole)): in \(quote(part)): \(why)\n"
                         + Self.acceptedSyntax(channels: channels, height: height, width: width, mirrorable: mirrorable))
        }
        var chosen: [String: any Augmentation] = [:]
        for rawEntry in whole.split(separator: ",", omittingEmptySubsequences: false) {
            let part = rawEntry.trimmingCharacters(in: .whitespaces)
            var fields = part.split(separator: ":", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let name = fields.removeFirst()
            if name.isEmpty { throw failure(part, "missing augmentation name") }
            if name == "none" { throw failure(part, "\"none\" cannot be combined with other augmentations") }
            guard let entry = AugmentationTable.entry(named: name) else {
                let hint = Self.closestName(to: name).map { "; did you mean \($0)?" } ?? ""
                throw failure(part, "unknown augmentation \(quote(name))\(hint)")
            }
            if chosen[name] != nil { throw failure(part, "\(quote(name)) is selected twice") }

            let keys = entry.type.keys
            var values: [String: String] = [:]
            for field in fields {
                guard let eq = field.firstIndex(of: "=") else {
                    throw failure(part, "\(quote(field)) is not a key=value pair")
                }
                let key = field[..<eq].trimmingCharacters(in: .whitespaces)
                let value = field[field.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                guard keys.contains(key) else {
                    let accepted = keys.isEmpty ? "no parameters" : keys.joined(separator: ", ")
                    throw failure(part, "unknown key \(quote(key)) for \(name) (\(name) accepts \(accepted))")
                }
                if value.isEmpty { throw failure(part, "\(key) has no value") }
                if values.updateValue(value, forKey: key) != nil { throw failure(part, "\(key) is given twice") }
            }
            do {
                chosen[name] = try entry.type.parse(values, geometry: g)
            } catch let r as Rejection {
                throw failure(part, r.why)
            }
        }
        self.init(steps: AugmentationTable.entries.compactMap { e in
            chosen[e.name].map { Step(entry: e, augmentation: $0) }
        }, mirrorable: mirrorable, geometry: g)
    }

    /// Parses a selection for the images of `dataset`: their shape, and whether they may be mirrored.
    public init(parsing spec: String, for dataset: Dataset) throws {
        let shape = dataset.imageShape
        try self.init(parsing: spec, channels: shape[0], height: shape[1], width: shape[2], mirrorable: dataset.mirrorable)
    }

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
        return AugmentationTable.entries.map { ($0.name, distance(Array($0.name.unicodeScalars))) }
            .filter { $0.1 <= 2 }
            .min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    /// The augmentation names in application order, each with what it does, e.g.
    /// `crop (random shift: pad, crop back)`; for `--help`.
    public static var catalogue: String {
        AugmentationTable.entries.map { "\($0.name) (\($0.type.summary))" }.joined(separator: ", ")
    }

    /// What `init(parsing:…)` accepts for images of this shape, with the defaults spelled out
    /// (used in every parse error; suitable for `--help`).
    public static func acceptedSyntax(channels: Int, height: Int, width: Int, mirrorable: Bool? = nil) -> String {
        let g = ImageGeometry(channels: channels, height: height, width: width, mirrorable: mirrorable)
        let rows = AugmentationTable.entries.map { $0.type.syntaxRow(geometry: g) }
        let width0 = rows.map(\.spelling.count).max() ?? 0
        return "accepted: \"none\", or a comma-separated list of "
            + AugmentationTable.entries.map(\.name).joined(separator: ", ")
            + " (applied in this order), each optionally followed by :key=value pairs "
            + "(defaults shown for \(channels)×\(height)×\(width) images):\n"
            + rows.map { row in
                // Two lines each: spelling and summary, then the allowed values under the summary.
                let gap = String(repeating: " ", count: width0 - row.spelling.count + 2)
                let indent = String(repeating: " ", count: width0 + 4)
                return "  " + row.spelling + gap + row.summary + (row.rules.isEmpty ? "" : "\n" + indent + row.rules)
            }.joined(separator: "\n")
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
