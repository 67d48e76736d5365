/// One `key=value` parameter of an augmentation `Root`: its key, what values it allows, and the
/// stored property it reads into and is spelt from. Declaring the key path once makes parsing and
/// the canonical spelling agree by construction.
struct Parameter<Root>: Sendable {
    /// The key as written after `:`, e.g. `pad`.
    let key: String
    /// What is allowed, as a phrase for error messages, e.g. `an integer in 0...27`.
    let rule: @Sendable (ImageGeometry) -> String
    /// What is allowed, tersely, for the table of accepted syntax, e.g. `0...27`.
    let shortRule: @Sendable (ImageGeometry) -> String
    /// Stores the value `text` stands for into `root`; false (and `root` unchanged) when not allowed.
    let read: @Sendable (_ text: String, _ root: inout Root, ImageGeometry) -> Bool
    /// The value as the canonical spelling writes it.
    let spell: @Sendable (Root) -> String

    /// An integer within a range that may depend on the image size (a crop pad below the side).
    static func integer(_ key: String, _ path: WritableKeyPath<Root, Int> & Sendable,
                        in range: @escaping @Sendable (ImageGeometry) -> ClosedRange<Int>) -> Parameter {
        Parameter(key: key,
                  rule: { g in "an integer in \(range(g).lowerBound)...\(range(g).upperBound)" },
                  shortRule: { g in "\(range(g).lowerBound)...\(range(g).upperBound)" },
                  read: { text, root, g in
                      guard let v = Int(text), range(g).contains(v) else { return false }
                      root[keyPath: path] = v
                      return true
                  },
                  spell: { "\($0[keyPath: path])" })
    }

    /// A finite real number within `interval`. Spelt with Swift's shortest round-tripping form
    /// (`0.5`, `1.0`), so re-parsing the spelling gives the same bits.
    static func real(_ key: String, _ path: WritableKeyPath<Root, Double> & Sendable, in interval: Interval) -> Parameter {
        Parameter(key: key,
                  rule: { _ in "a number \(interval.text)" },
                  shortRule: { _ in interval.text },
                  read: { text, root, _ in
                      guard let v = Double(text), v.isFinite, interval.contains(v) else { return false }
                      root[keyPath: path] = v
                      return true
                  },
                  spell: { "\($0[keyPath: path])" })
    }

    /// One of the cases of a string enumeration, e.g. `mode=zero|reflect`.
    static func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ path: WritableKeyPath<Root, T> & Sendable)
    -> Parameter where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        return Parameter(key: key,
                         rule: { _ in "one of " + names.joined(separator: ", ") },
                         shortRule: { _ in names.joined(separator: "|") },
                         read: { text, root, _ in
                             guard let v = T(rawValue: text) else { return false }
                             root[keyPath: path] = v
                             return true
                         },
                         spell: { $0[keyPath: path].rawValue })
    }
}

/// An interval of the real line, each end open or closed; the upper end may be infinite.
struct Interval: Sendable {
    let lower: Double
    let upper: Double
    let lowerOpen: Bool
    let upperOpen: Bool

    /// `[lower, upper]`.
    static func closed(_ lower: Double, _ upper: Double) -> Interval {
        Interval(lower: lower, upper: upper, lowerOpen: false, upperOpen: false)
    }
    /// `(lower, upper]`.
    static func openClosed(_ lower: Double, _ upper: Double) -> Interval {
        Interval(lower: lower, upper: upper, lowerOpen: true, upperOpen: false)
    }
    /// Every number above `lower`.
    static func above(_ lower: Double) -> Interval {
        Interval(lower: lower, upper: .infinity, lowerOpen: true, upperOpen: true)
    }

    func contains(_ v: Double) -> Bool {
        (lowerOpen ? v > lower : v >= lower) && (upperOpen ? v < upper : v <= upper)
    }

    /// `in [0, 1]`, `in (0, 1]`, `> 0`.
    var text: String {
        if upper == .infinity { return (lowerOpen ? "> " : ">= ") + Self.format(lower) }
        return "in " + (lowerOpen ? "(" : "[") + Self.format(lower) + ", " + Self.format(upper) + (upperOpen ? ")" : "]")
    }

    /// Whole numbers without a fraction (`1000`, not `1000.0`), others as Swift writes them.
    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }
}
