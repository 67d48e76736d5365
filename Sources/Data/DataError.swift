/// An error in a file the user gave us: names the file and says what is wrong with it.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String

    public init(_ file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { file.isEmpty ? message : "\(file): \(message)" }
}
