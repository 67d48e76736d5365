import Kernels

/// The instruction sets the SIMD kernels (Sources/Kernels) are compiled for.
public enum ISA: Int, CaseIterable, Sendable {
    case portable, avx2, avx512

    /// The best this CPU supports.
    public static let best = ISA(rawValue: Int(le4_best_isa().rawValue)) ?? .portable

    /// What le4nn runs with: `best`, or a lower set named by `LE4NN_ISA` (portable, avx2, avx512),
    /// to compare kernels on one machine (`EnvironmentSettings.isa`). A set the CPU lacks is never chosen.
    public static let active: ISA = (try? EnvironmentSettings.isa(EnvironmentSettings.process, best: best).isa) ?? best

    /// The sets this CPU can run, lowest first.
    public static var supported: [ISA] { allCases.filter { $0 <= best } }

    /// The name `LE4NN_ISA` takes and `bench` prints.
    public var name: String { String(cString: le4_isa_name(cValue)) }
    var cValue: le4_isa { le4_isa(rawValue: UInt32(rawValue)) }

    /// This set's kernels (Kernels/dispatch.c): every op with per-set variants is called through
    /// it, `ISA.active.kernels.bn_sums(...)`, so no call site passes the set.
    var kernels: le4_kernels { ISA.tables[rawValue] }
    private static let tables = allCases.map { le4_kernels_for($0.cValue).pointee }
}

extension ISA: Comparable {
    public static func < (a: ISA, b: ISA) -> Bool { a.rawValue < b.rawValue }
}
