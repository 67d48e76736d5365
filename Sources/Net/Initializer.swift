import Foundation
import LE4Data

/// How weights are drawn (biases start at zero).
public enum Initializer: String, CaseIterable, Sendable {
    /// The course's N(0, 1/N_in).
    case course
    /// Xavier (Glorot): N(0, 2/(N_in + N_out)).
    case xavier
    /// He: N(0, 2/N_in), for ReLU networks.
    case he
    /// U(−1/√N_in, 1/√N_in): PyTorch's default for convolutions and linear layers, which
    /// airbench's recipe keeps (variance 1/(3·N_in)).
    case uniform

    public func draw(count: Int, fanIn: Int, fanOut: Int, rng: inout SeededRNG) -> [Float] {
        let variance: Double
        switch self {
        case .course: variance = 1 / Double(fanIn)
        case .xavier: variance = 2 / Double(fanIn + fanOut)
        case .he: variance = 2 / Double(fanIn)
        case .uniform:
            let bound = 1 / Double(fanIn).squareRoot()
            return (0 ..< count).map { _ in Float(rng.uniform(-bound, bound)) }
        }
        let sd = variance.squareRoot()
        return (0 ..< count).map { _ in Float(rng.normal() * sd) }
    }
}
