import Foundation
import LE4Data
import Net

/// Models whose softmax outputs are averaged. One model is an ensemble of one.
struct Ensemble {
    var paths: [String]
    var networks: [Network]

    init(paths: [String]) throws {
        guard !paths.isEmpty else { throw ValidationErrorText("give at least one --model") }
        self.paths = paths
        networks = try paths.map { try loadModel($0).network }
    }

    init(networks: [Network], paths: [String]) {
        self.networks = networks
        self.paths = paths
    }

    /// Refuses data the models were not built for, naming the model and both shapes.
    func check(fits set: ImageSet, source: String) throws {
        for (p, n) in zip(paths, networks) {
            let shape = [set.channels, set.height, set.width]
            guard n.inputShape == shape else {
                throw ValidationErrorText("\(p) expects images of \(n.inputShape.map(String.init).joined(separator: "×")), "
                    + "\(source) has \(shape.map(String.init).joined(separator: "×"))")
            }
            if !set.classNames.isEmpty, n.classes != set.classNames.count {
                throw ValidationErrorText("\(p) has \(n.classes) classes, \(source) has \(set.classNames.count)")
            }
        }
    }

    /// Each model's probabilities [N, classes]; with `tta`, averaged over the image and its
    /// one-pixel shifts in the four directions.
    func memberProbabilities(_ set: ImageSet, tta: Bool = false) -> [[Float]] {
        let views = tta ? [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)].map { shifted(set, dx: $0.0, dy: $0.1) } : [set]
        return networks.map { net in
            var sum = [Float](repeating: 0, count: set.count * net.classes)
            for v in views { for (i, p) in net.probabilities(v).enumerated() { sum[i] += p / Float(views.count) } }
            return sum
        }
    }

    /// The mean of the members' probabilities.
    static func mean(_ members: [[Float]]) -> [Float] {
        var m = members[0]
        for other in members.dropFirst() { for i in m.indices { m[i] += other[i] } }
        let k = Float(members.count)
        return m.map { $0 / k }
    }
}

/// Arg-max class of each row of probabilities [N, classes].
func predictions(_ p: [Float], classes: Int) -> [Int] {
    (0 ..< p.count / classes).map { i in
        let row = p[i * classes ..< (i + 1) * classes]
        return row.indices.max { row[$0] < row[$1] }! - i * classes
    }
}

/// Fraction of predictions equal to the labels.
func accuracy(_ predicted: [Int], _ labels: [UInt8]) -> Double {
    Double(zip(predicted, labels).filter { $0 == Int($1) }.count) / Double(max(1, labels.count))
}

/// The set with every image moved by (dx, dy) pixels, the uncovered border zero.
func shifted(_ set: ImageSet, dx: Int, dy: Int) -> ImageSet {
    if dx == 0 && dy == 0 { return set }
    var out = set
    let (H, W) = (set.height, set.width)
    out.pixels.withUnsafeMutableBufferPointer { o in
        set.pixels.withUnsafeBufferPointer { s in
            for plane in 0 ..< set.count * set.channels {
                let base = plane * H * W
                for y in 0 ..< H {
                    for x in 0 ..< W {
                        let sx = x - dx, sy = y - dy
                        o[base + y * W + x] = sx >= 0 && sx < W && sy >= 0 && sy < H ? s[base + sy * W + sx] : 0
                    }
                }
            }
        }
    }
    return out
}

/// Reads images to answer: a contest dump (pickle) or an IDX images file.
func readImagesToAnswer(_ path: String) throws -> ImageSet {
    let head = try FileIO.readMaybeGzip(path, limit: 1 << 31).prefix(4)
    if head.first == 0x80 || head.first == 0x63 {  // pickle: PROTO, or GLOBAL at protocol 0/1
        return try ContestDump.read(path)
    }
    let im = try IDX.readImages(path)
    return ImageSet(count: im.count, channels: 1, height: im.height, width: im.width, pixels: im.pixels, labels: [],
                    classNames: [])
}

/// Writes one predicted class per line, nothing else, in input order (atomically).
func writeAnswers(_ predicted: [Int], to path: String) throws {
    try FileIO.writeAtomically(predicted.map { "\($0)\n" }.joined(), to: path)
}
