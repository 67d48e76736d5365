import Foundation
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM during `train` and `contest`: instead of dying mid-batch without a
/// word, the run stops after the current batch and says which epoch its files keep and how to continue.
public enum Interrupt {
    /// The signal that asked the run to stop, or 0. Set by the handler, polled between batches.
    static let signal = Atomic<Int32>(0)

    /// Catches SIGINT and SIGTERM until the process ends. The first one only sets `signal`; the
    /// handler then restores the default action, so a second Ctrl-C ends a run that does not stop.
    public static func catchStopSignals() {
        for s in [SIGINT, SIGTERM] {
            Glibc.signal(s) { s in
                Interrupt.signal.store(s, ordering: .relaxed)
                Glibc.signal(s, SIG_DFL)
            }
        }
    }

    /// Gives SIGINT and SIGTERM their default action again: the process ends at once.
    public static func stopCatching() {
        for s in [SIGINT, SIGTERM] { Glibc.signal(s, SIG_DFL) }
    }

    /// Throws `Interrupted` when a stop signal has arrived.
    public static func check(epochsDone: Int) throws {
        let s = signal.load(ordering: .relaxed)
        if s != 0 { throw Interrupted(signal: s, epochsDone: epochsDone) }
    }
}

/// A training run stopped by a signal; its files hold `epochsDone` epochs.
public struct Interrupted: Error {
    public var signal: Int32
    public var epochsDone: Int
    /// What stopped where, and how to go on: lines for standard error, set by whoever knows
    /// (the command line prints them and exits with `exitStatus`).
    public var lines: [String] = []
    /// The exit status of a process killed by the signal, as shells report it (130 for Ctrl-C).
    public var exitStatus: Int32 { 128 + signal }
}

/// The command that started this process, without the flag `removed` and with the flag `added`
/// when given, as one shell line (words quoted where the shell would split or expand them), for
/// messages saying "continue with …".
public func commandLine(removing removed: String? = nil, adding added: String? = nil) -> String {
    let given = CommandLine.arguments.dropFirst().filter { $0 != removed }
    let words = ["le4nn"] + given + (added.map { given.contains($0) ? [] : [$0] } ?? [])
    return shellQuoted(words)
}

/// Words joined into one line a POSIX shell reads back as the same words: plain ones as they
/// are, others in single quotes.
public func shellQuoted(_ words: [String]) -> String {
    let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%")
    return words.map { w in
        !w.isEmpty && w.unicodeScalars.allSatisfy(plain.contains) ? w : "'" + w.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }.joined(separator: " ")
}
