import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

/// `le4nn classify`: the course's tasks 1 and 4.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the predicted digit of MNIST test images by index (the course's tasks 1 and 4).",
        discussion: """
        Answers --index, or every line of standard input (one index 0–9999 a line). Without \
        --model it uses the course's 3-layer net (784 → 100 sigmoid → 10 softmax) with \
        N(0, 1/N) weights drawn from a fixed seed, as task 1 asks (its answer is a guess until \
        trained).

          le4nn classify --data ../shared/data --index 42
          printf '0\\n1\\n2\\n' | le4nn classify --data ../shared/data --model runs/a.npz
        """)

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Model file (.npz); without it, the untrained course net.") var model: String?
    @Option(parsing: .unconditional, help: "Index of the MNIST test image (0–9999); without it, each line of standard input.") var index: Int?

    func run() throws {
        let test = try Dataset.mnist.load(root: data.root, train: false)
        let ensemble = try model.map { try Ensemble(paths: [$0]) } ?? Ensemble(
            networks: [try Network(spec: "mlp", inputShape: Dataset.mnist.imageShape, classes: 10, initializer: .course, seed: 1)],
            paths: ["course 3-layer net"])
        if let (p, d) = ensemble.trainedOn, d != .mnist {
            throw ValidationErrorText("\(p) was trained on \(d): classify answers MNIST test images (evaluate runs it on \(d))")
        }
        try ensemble.check(fits: test, source: "MNIST test")
        let net = ensemble.networks[0]
        func answer(_ idx: Int) {
            let p = net.probabilities(test.subset([idx]))
            let guess = predictions(p, classes: 10)[0]
            print(guess)
            FileHandle.standardError.write(Foundation.Data(String(format: "image %d: predicted %d (%.1f%%), label %d\n",
                                                                   idx, guess, 100 * p[guess], test.labels[idx]).utf8))
        }
        let valid = 0 ..< test.count
        if let i = index {
            guard valid.contains(i) else { throw ValidationError("--index must be a whole number from 0 to \(test.count - 1)") }
            return answer(i)
        }
        let prompt = isatty(STDIN_FILENO) != 0
        var lineNumber = 0, answered = 0
        while true {
            if prompt {
                print("index (0-\(test.count - 1)): ", terminator: "")
                fflush(stdout)
            }
            guard let line = readLine() else { break }
            lineNumber += 1
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let i = Int(text), valid.contains(i) else {
                throw ValidationErrorText("standard input, line \(lineNumber): \(quote(text, limit: 40)) is not an index; "
                    + "give whole numbers from 0 to \(test.count - 1), one a line")
            }
            answer(i)
            answered += 1
        }
        if answered == 0 {
            throw ValidationErrorText("no index: give --index N, or indices from 0 to \(test.count - 1) on standard input, one a line")
        }
    }
}
