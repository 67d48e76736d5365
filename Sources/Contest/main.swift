import ArgumentParser
import Foundation
import LE4Data
import Net

Threads.configure()

// LE4NN.main(), except that failure messages pass through `escaped`: a message that repeats
// user data whole (ArgumentParser's invalid values, Net's specs, a model file's architecture)
// can neither drive the terminal nor flood it.
do {
    var command = try LE4NN.parseAsRoot()
    // After parsing, and not for help (which parses as ArgumentParser's own `help` command), so
    // that --help works whatever the environment says.
    if type(of: command).configuration.commandName != "help" {
        for note in try EnvironmentSettings.check() { printWarning(note) }
    }
    try command.run()
} catch {
    let code = LE4NN.exitCode(for: error)
    let message = LE4NN.fullMessage(for: error)
    if code == .success {
        print(message)  // help and version
    } else if !message.isEmpty {
        FileHandle.standardError.write(Foundation.Data((escaped(message, limit: 4000, keepingNewlines: true) + "\n").utf8))
    }
    exit(code.rawValue)
}
