/// A mistake in a network, schedule or model description: says what is wrong and what is accepted.
public struct NetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
