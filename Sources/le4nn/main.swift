import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

Threads.configure()

// LE4NN.main(), except that every failure message goes through `writeStandardError` (escaped),
// a stopped run says what it kept and exits as the signal would, and the library's option
// errors show the usage as ArgumentParser's own do.
do {
    var command = try LE4NN.parseAsRoot()
    // After parsing, and not for help (which parses as ArgumentParser's own `help` command), so
    // that --help works whatever the environment says.
    if type(of: command).configuration.commandName != "help" {
        for note in try EnvironmentSettings.check() { printWarning(note) }
    }
    do { try command.run() } catch let e as OptionError { throw ValidationError(e.description) }
} catch let stop as Interrupted {
    for line in stop.lines { writeStandardError(line) }
    exit(stop.exitStatus)
} catch {
    let code = LE4NN.exitCode(for: error)
    let message = LE4NN.fullMessage(for: error)
    if code == .success {
        print(message)  // help and version
    } else if !message.isEmpty {
        writeStandardError(message)
    }
    exit(code.rawValue)
}
