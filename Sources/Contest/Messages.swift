// What the commands tell the user: errors and warnings on standard error, progress lines, durations.
import Foundation
import LE4Data

/// "1h02m", "3m05s", "12s".
public func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}

/// An image shape as people write it: [1, 28, 28] → "1×28×28".
public func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

/// A user-facing error with a plain message (printed as is, exit status 1).
public struct ValidationErrorText: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// An option's value is wrong: the command line shows the message with its usage (exit status 64).
public struct OptionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Progress on one line when standard output is a terminal; plain lines every tenth otherwise.
public final class Progress {
    let label: String
    let tty = isatty(STDOUT_FILENO) != 0
    var lastDraw = Date.distantPast
    var lastTenth = -1

    public init(label: String) { self.label = label }

    public func update(_ text: String, fraction: Double) {
        let line = label.isEmpty ? text : "[\(label)] \(text)"
        if tty {
            guard Date().timeIntervalSince(lastDraw) > 0.25 else { return }
            lastDraw = Date()
            print("\r\u{1B}[K" + line, terminator: "")
            fflush(stdout)
        } else {
            let tenth = Int(fraction * 10)
            guard tenth > lastTenth, tenth < 10 else { return }
            lastTenth = tenth
            print(line)
            fflush(stdout)
        }
    }

    public func finish(_ text: String) {
        let line = label.isEmpty ? text : "[\(label)] \(text)"
        print(tty ? "\r\u{1B}[K" + line : line)
        fflush(stdout)
        lastTenth = -1
    }
}

/// Writes `text` to standard error as one or more lines, escaped (`escaped`): a message that
/// repeats user data whole (an invalid value, a spec, a model file's architecture) can neither
/// drive the terminal nor flood it. Every error and warning goes through here.
public func writeStandardError(_ text: String) {
    FileHandle.standardError.write(Data((escaped(text, limit: 4000, keepingNewlines: true) + "\n").utf8))
}

/// Writes one error line to standard error.
public func printError(_ message: String) { writeStandardError("error: " + message) }

/// Writes one warning line to standard error: the command goes on, but its result may not be what was meant.
public func printWarning(_ message: String) { writeStandardError("warning: " + message) }
