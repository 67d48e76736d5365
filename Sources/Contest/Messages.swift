// What the commands tell the user: errors and warnings on standard error, progress lines, durations.
import Foundation

/// "1h02m", "3m05s", "12s".
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}

/// An image shape as people write it: [1, 28, 28] → "1×28×28".
func shapeText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

/// A user-facing error with a plain message (printed as is, exit status 1).
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Progress on one line when standard output is a terminal; plain lines every tenth otherwise.
final class Progress {
    let label: String
    let tty = isatty(STDOUT_FILENO) != 0
    var lastDraw = Date.distantPast
    var lastTenth = -1

    init(label: String) { self.label = label }

    func update(_ text: String, fraction: Double) {
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

    func finish(_ text: String) {
        let line = label.isEmpty ? text : "[\(label)] \(text)"
        print(tty ? "\r\u{1B}[K" + line : line)
        fflush(stdout)
        lastTenth = -1
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}

/// Writes one warning line to standard error: the command goes on, but its result may not be what was meant.
func printWarning(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}
