import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

/// `le4nn predict`: the answer file.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer images: one predicted class per line, in input order.",
        discussion: """
        The input is a contest dump (le4MNIST_X.dump: a pickled NumPy array of N 28×28 images) \
        or an IDX images file. The output has exactly N lines, each the digit and a newline; \
        how often each class was answered is printed after it is written (for digits, a class \
        far from a tenth of the answers is worth a look). `le4nn inspect` checks an answer file.

          le4nn predict --model runs/a.npz --model runs/b.npz \\
              --input le4MNIST_X.dump --out submissions/answer.txt
        """)

    @Option(name: .customLong("model"), help: "Model file (.npz); repeat for an ensemble.") var models: [String] = []
    @Option(help: "Contest dump or IDX images file.") var input: String
    @Option(help: "Answer file to write (its folder is created if missing).") var out: String
    @Flag(help: "Test-time augmentation: average each model over shifted (and, for mirrorable images, mirrored) views, as evaluate --tta does.")
    var tta = false
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        let policy = replace.policy(inputs: models + [input])
        try policy.check(out, writing: .answers)
        let ensemble = try Ensemble(paths: models)
        let (set, isContestDump) = try readImagesToAnswer(input)
        try ensemble.check(fits: set, source: input)
        if isContestDump, let (p, d) = ensemble.trainedOn, d != .mnist {
            printWarning("\(p) was trained on \(d), not MNIST: its answers to the contest dump \(input) are \(d) classes, not digits")
        }
        let probabilities = ensemble.memberProbabilities(set, tta: tta, dataset: ensemble.trainedOn?.dataset ?? .mnist)
        let predicted = predictions(Ensemble.mean(probabilities), classes: ensemble.networks[0].classes)
        let folders = CreatedFolders()
        try folders.makeParent(of: out)
        try writeAnswers(predicted, to: out, policy: policy)
        folders.kept = true
        var counts = [Int](repeating: 0, count: ensemble.networks[0].classes)
        for p in predicted { counts[p] += 1 }
        print("wrote \(predicted.count) answers to \(out)\n  classes: " + classHistogram(counts))
    }
}
