import ArgumentParser
import Augment
import Contest
import LE4Data

/// `le4nn distort`: a stand-in for new writers, as IDX files a contest can answer.
struct Distort: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write test images redrawn by seeded augmentations as IDX files: a stand-in for new writers.",
        discussion: """
        The contest's digits come from writers the training set never saw. To measure a method \
        the way the contest runs it, redraw the test images (by default all four distortions \
        at full strength: \(AugmentConfig.newWriters)), answer them as --input, and score the \
        answers against their labels afterwards: the contest sees only the images file.

        Writes <out>-images-idx3-ubyte and <out>-labels-idx1-ubyte:
          le4nn distort --data ../shared/data --out runs/new-writers
          le4nn contest --data ../shared/data --input runs/new-writers-images-idx3-ubyte \\
              --name new-writers --adapt-bn
          le4nn inspect submissions/new-writers.txt --labels runs/new-writers-labels-idx1-ubyte
        """)

    @OptionGroup var data: DataOptions
    @Option(help: "Which split: train or test.") var split: Split = .test
    @Option(help: "The distortions: augmentations as for train --augment (mixup excepted).")
    var augment: String = AugmentConfig.newWriters
    @Option(parsing: .unconditional, help: "Seed of the distortions.") var seed: UInt64 = 7
    @Option(help: "Prefix of the two files written (<out>-images-idx3-ubyte, <out>-labels-idx1-ubyte).") var out: String
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        let dataset = data.dataset
        let config = try AugmentConfig.distortion(parsing: augment, for: dataset)
        let set = try dataset.load(root: data.root, train: split == .train)
        guard set.channels == 1 else {
            throw ValidationErrorText("\(dataset.name) has colour images; IDX files of the contest's kind hold gray ones: use mnist or fashion")
        }
        let (images, labels) = (out + "-images-idx3-ubyte", out + "-labels-idx1-ubyte")
        let policy = replace.policy(inputs: dataset.files(root: data.root))
        let folders = CreatedFolders()
        try folders.makeParent(of: out)
        for f in [images, labels] { try FileIO.checkWritable(f, as: .other, policy: policy) }
        let distorted = set.distorted(by: config, seed: seed)
        try FileIO.writeAtomically(IDX.encode(dims: [set.count, set.height, set.width], bytes: distorted.pixels), to: images, as: .other,
                                   policy: policy)
        try FileIO.writeAtomically(IDX.encode(dims: [set.count], bytes: distorted.labels), to: labels, as: .other, policy: policy)
        folders.kept = true
        print("wrote \(images) (\(set.count) \(dataset.name) \(split) images distorted by \(config), seed \(seed)) and \(labels)")
    }
}
