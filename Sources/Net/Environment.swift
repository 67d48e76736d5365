import LE4Data
#if canImport(Glibc)
import Glibc
#endif

/// le4nn's settings from the environment, each validated as an option is: one owner for the
/// variables, the values they take and their errors. The CLI calls `check` before a command
/// runs; the settings themselves (`Threads.count`, `ISA.active`, `Winograd.requestedTile`) read
/// the same functions and fall back to their defaults for a library user who never checked.
public enum EnvironmentSettings {
    /// A variable's value, or nil when it is unset.
    public typealias Lookup = (String) -> String?
    /// This process's environment.
    public static let process: Lookup = { getenv($0).map { String(cString: $0) } }

    /// The most worker threads a variable may ask for.
    static let maxThreads = 1024

    /// Throws for the first variable set to a value it does not take, naming it and the values it
    /// takes; returns a line for each setting that is honoured only in part.
    public static func check(_ env: Lookup = process) throws -> [String] {
        let notes = [try threads(env, cores: cores).note, try isa(env, best: ISA.best).note]
        _ = try winogradTile(env)
        return notes.compactMap { $0 }
    }

    /// The machine's online cores.
    static var cores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Worker threads: `LE4NN_THREADS`, else the CPUs Slurm gave the task (`SLURM_CPUS_PER_TASK`),
    /// else every core. More than the cores run no faster (the work queue runs as many at a time
    /// as there are cores), so a larger count is taken as the cores, and the note says so.
    static func threads(_ env: Lookup, cores: Int) throws -> (count: Int, note: String?) {
        for name in ["LE4NN_THREADS", "SLURM_CPUS_PER_TASK"] {
            guard let text = env(name) else { continue }
            guard let n = Int(text), (1 ... maxThreads).contains(n) else {
                throw NetError("\(name)=\(quote(text)) is not a thread count: give a whole number from 1 to \(maxThreads) "
                    + "(this machine has \(cores) cores), or unset it to use them all")
            }
            guard n <= cores else { return (cores, "\(name)=\(n) asks for more threads than the \(cores) cores: using \(cores)") }
            return (n, nil)
        }
        return (cores, nil)
    }

    /// The kernels' instruction set: `LE4NN_ISA` (portable, avx2, avx512), at most the best the
    /// CPU has; else the best.
    static func isa(_ env: Lookup, best: ISA) throws -> (isa: ISA, note: String?) {
        guard let text = env("LE4NN_ISA") else { return (best, nil) }
        guard let asked = ISA.named(text) else {
            throw NetError("LE4NN_ISA=\(quote(text)) is not an instruction set: give one of "
                + ISA.allCases.map(\.name).joined(separator: ", ") + " (this CPU runs up to \(best.name)), or unset it")
        }
        guard asked <= best else { return (best, "LE4NN_ISA=\(text): this CPU lacks it; using \(best.name)") }
        return (asked, nil)
    }

    /// The Winograd tile `LE4NN_WINOGRAD` asks for (one of `Winograd.tileSizes`), nil when unset.
    static func winogradTile(_ env: Lookup) throws -> Int? {
        guard let text = env("LE4NN_WINOGRAD") else { return nil }
        guard let m = Int(text), Winograd.tileSizes.contains(m) else {
            let sizes = Winograd.tileSizes.map(String.init).joined(separator: ", ")
            throw NetError("LE4NN_WINOGRAD=\(quote(text)) is not a Winograd tile: give one of \(sizes), or unset it to choose by layer")
        }
        return m
    }
}
