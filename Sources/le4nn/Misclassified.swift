import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

/// `le4nn misclassified`: the most confident wrong answers as PNGs, a contact sheet and a CSV index.
struct Misclassified: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the most confident mistakes as PNGs, one captioned contact sheet, and a CSV index.",
        discussion: """
        Mistakes are ranked by the probability the model gave its wrong answer, most confident \
        first, and the first --top of them are written: each image as <index>_<true class>.png, \
        named as `export` names it; sheet.png shows them in rank order, each captioned \
        "true 7 → 2 (0.98)" (true class → predicted class, and the predicted class's \
        probability) with its index below; index.csv lists rank, index, true, predicted, \
        confidence and file. The summary says how many mistakes there are in all.

        The 100 most confident mistakes on the MNIST test set; every mistake of an ensemble:
          le4nn misclassified --data ../shared/data --model runs/a.npz --out runs/wrong
          le4nn misclassified --data ../shared/data --model runs/a.npz \\
              --model runs/b.npz --top all --out runs/wrong-all
        """)

    @OptionGroup var data: DataOptions
    @Option(name: .customLong("model"), help: "Model file (.npz); repeat for an ensemble.") var models: [String] = []
    @Option(help: "Which split: train or test.") var split: Split = .test
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(parsing: .unconditional, help: ArgumentHelp("How many mistakes to write, most confident first: a number, or all (0 means all too).",
                               valueName: "n|all"))
    var top: TopCount = TopCount(limit: 100)
    @Option(parsing: .unconditional, help: "Upscale factor of the images in the contact sheet.") var scale: Int = 4
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        guard (1 ... 16).contains(scale) else { throw ValidationError("--scale must be 1 to 16") }
        let ensemble = try Ensemble(paths: models)
        let dataset = try ensemble.dataset(chosen: data.chosenDataset)
        let policy = replace.policy(inputs: models + dataset.files(root: data.root))
        let set = try dataset.load(root: data.root, train: split == .train)
        try ensemble.check(fits: set, source: "\(dataset) \(split)")
        let folders = CreatedFolders()
        try folders.make(out)
        let C = set.classNames.count
        let probs = Ensemble.mean(ensemble.memberProbabilities(set))
        let predicted = predictions(probs, classes: C)
        var wrong = [(index: Int, truth: Int, guess: Int, confidence: Float)]()
        for i in 0 ..< set.count where predicted[i] != Int(set.labels[i]) {
            wrong.append((i, Int(set.labels[i]), predicted[i], probs[i * C + predicted[i]]))
        }
        // Ties by index, so that the same models always write the same files.
        wrong.sort { ($0.confidence, $1.index) > ($1.confidence, $0.index) }
        let written = wrong.prefix(top.limit ?? wrong.count)
        let files = written.map { imageFileName(index: $0.index, className: set.classNames[$0.truth]) }
        // Every file is checked before the first is written: a refusal leaves the folder as it was.
        for (f, kind) in files.map({ ($0, FileKind.image) }) + [("index.csv", .table), ("sheet.png", .image)] {
            try policy.check(out + "/" + f, writing: kind)
        }
        var csv = FileKind.tableHeader + "\n"
        var sheet = ContactSheet(channels: set.channels, height: set.height, width: set.width, columns: 10, scale: scale, textScale: 2)
        let what = written.count == wrong.count ? "all \(wrong.count) mistakes" : "the \(written.count) most confident of \(wrong.count) mistakes"
        sheet.header = ["\(dataset) \(split): \(what), most confident first",
                        "caption: true class → predicted class (probability of the predicted class), #image index"]
        for (rank, (w, file)) in zip(written, files).enumerated() {
            let px = set.pixels[w.index * set.imageSize ..< (w.index + 1) * set.imageSize]
            try PNG.write(Bitmap(planar: px, channels: set.channels, height: set.height, width: set.width), to: out + "/" + file,
                          policy: policy)
            csv += "\(rank + 1),\(w.index),\(w.truth),\(w.guess),\(String(format: "%.4f", w.confidence)),\(file)\n"
            sheet.add(px, caption: String(format: "true %@ → %@ (%.2f)\n#%d", set.classNames[w.truth], set.classNames[w.guess],
                                          w.confidence, w.index))
        }
        try FileIO.writeAtomically(csv, to: out + "/index.csv", as: .table, policy: policy)
        try PNG.write(sheet.render(), to: out + "/sheet.png", policy: policy)
        folders.kept = true
        print(String(format: "%d of %d %@ %@ images misclassified (accuracy %.2f%%)", wrong.count, set.count, dataset.rawValue,
                     split.rawValue, 100 * (1 - Double(wrong.count) / Double(set.count))))
        let which = written.count < wrong.count ? "the \(written.count) most confident (--top all writes every one)" : "all \(wrong.count)"
        print("wrote \(which) to \(out): PNGs named <index>_<true class>.png, sheet.png and index.csv")
    }
}

/// How many of a ranked list to keep: a number, or every one (`all`, or 0).
struct TopCount: ExpressibleByArgument, CustomStringConvertible {
    /// nil: all of them.
    var limit: Int?

    init(limit: Int?) { self.limit = limit }

    init?(argument: String) {
        if argument == "all" { limit = nil; return }
        guard let n = Int(argument), n >= 0 else { return nil }
        limit = n == 0 ? nil : n
    }

    var description: String { limit.map(String.init) ?? "all" }
}
