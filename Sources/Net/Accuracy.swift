/// The arg-max of a row of scores (probabilities, logits or soft targets): the first of equal
/// maxima. The one definition every prediction, accuracy and count of correct answers uses.
@inline(__always)
public func argmax(_ row: ArraySlice<Float>) -> Int {
    var best = row.startIndex
    for j in row.indices where row[j] > row[best] { best = j }
    return best - row.startIndex
}

/// The predicted class of each row of scores [N, classes].
public func predictions(_ scores: [Float], classes: Int) -> [Int] {
    (0 ..< scores.count / classes).map { i in argmax(scores[i * classes ..< (i + 1) * classes]) }
}

/// Fraction of predictions equal to the labels (0 for none).
public func accuracy(_ predicted: [Int], _ labels: [UInt8]) -> Double {
    Double(zip(predicted, labels).filter { $0 == Int($1) }.count) / Double(max(1, labels.count))
}
