import Kernels

/// An instruction set the SIMD kernels (Sources/Kernels) are compiled for: a row of their
/// LE4_ISA_LIST, which alone says which sets there are.
public struct ISA: Hashable, Sendable {
    let cValue: le4_isa

    /// Every set the kernels have, lowest first.
    public static let allCases = (0 ..< LE4_ISA_COUNT.rawValue).map { ISA(cValue: le4_isa(rawValue: $0)) }

    /// The best this CPU supports.
    public static let best = ISA(cValue: le4_best_isa())

    /// What le4nn runs with: `best`, or a lower set named by `LE4NN_ISA` (portable, avx2, avx512),
    /// to compare kernels on one machine (`EnvironmentSettings.isa`). A set the CPU lacks is never chosen.
    public static let active: ISA = (try? EnvironmentSettings.isa(EnvironmentSettings.process, best: best).isa) ?? best

    /// The sets this CPU can run, lowest first.
    public static var supported: [ISA] { allCases.filter { $0 <= best } }

    /// The set called `name` (`LE4NN_ISA`'s spelling), if the kernels have one.
    public static func named(_ name: String) -> ISA? { allCases.first { $0.name == name } }

    /// The name `LE4NN_ISA` takes and `bench` prints.
    public var name: String { String(cString: le4_isa_name(cValue)) }

    /// This set's kernels (Kernels/dispatch.c): every op with per-set variants is called through
    /// it, `ISA.active.kernels.bn_sums(...)`, so no call site passes the set.
    var kernels: le4_kernels { ISA.tables[Int(cValue.rawValue)] }
    private static let tables = allCases.map { le4_kernels_for($0.cValue).pointee }
}

extension ISA: Comparable {
    public static func < (a: ISA, b: ISA) -> Bool { a.cValue.rawValue < b.cValue.rawValue }
}
