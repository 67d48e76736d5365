import COpenBLAS
import Foundation

/// The SGEMM kernels OpenBLAS runs. OpenBLAS picks them for the CPU when the library loads; the
/// 0.3.21 of Debian 12 does not know CPUs newer than it (Intel's Sapphire and Emerald Rapids
/// among them) and falls back to its SSE3 "Prescott" kernels, which train mnist-small at less
/// than half the speed (measured on a Xeon with AVX-512: 1,659 img/s, against 3,761 with SkylakeX).
public enum BLASKernel {
    /// The kernel set in use, such as "Haswell", "SkylakeX" or "Prescott".
    public static var name: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The kernel set to ask for when OpenBLAS chose `current` on a CPU with these /proc/cpuinfo
    /// flags, or nil when its choice stands (it is not the fallback, or nothing better fits).
    public static func better(than current: String, cpuFlags: Set<Substring>) -> String? {
        guard current.lowercased() == "prescott" else { return nil }
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// If OpenBLAS fell back to generic kernels on a CPU that has AVX2 or AVX-512, and the user has
    /// not chosen with OPENBLAS_CORETYPE, runs this program again with OPENBLAS_CORETYPE set: only a
    /// new process can change the kernels. Call first thing in `main`; returns when nothing needs
    /// doing, or (with a warning on standard error) when the restart fails.
    public static func restartIfFallback() {
        let current = name
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let core = better(than: current, cpuFlags: Set(flagsLine.split(separator: " ")))
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        fputs("le4nn: OpenBLAS uses its generic \(current) kernels on this CPU; set OPENBLAS_CORETYPE=\(core) for about twice the speed (restart failed: errno \(errno))\n", stderr)
    }
}
