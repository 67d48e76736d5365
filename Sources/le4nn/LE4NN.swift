import ArgumentParser
import Contest

/// The `le4nn` command: each job of the user is a subcommand.
struct LE4NN: ParsableCommand {
    /// The version `le4nn --version` prints.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "le4nn",
        abstract: "Train convolutional networks from scratch on the CPU and answer the le4nn digit contest.",
        discussion: """
        Data comes from --data DIR or $LE4NN_DATA (mnist/, cifar-10-batches-py/ or \
        cifar-10-jpeg/, fashion-mnist/). The three jobs:

        A contest answer file, submissions/final.txt:
          le4nn contest --data ../shared/data --input le4MNIST_X.dump --name final
        The misclassified test images as PNGs, with a contact sheet:
          le4nn misclassified --data ../shared/data --model runs/a.npz --out runs/wrong
        See an augmentation set, then retrain with it:
          le4nn augment-preview --data ../shared/data --augment crop,cutout --out a.png
          le4nn train --data ../shared/data --augment crop,cutout --out runs/a.npz
        """,
        version: version,
        subcommands: [ContestCommand.self, Train.self, Evaluate.self, Predict.self, Misclassified.self, Classify.self, AugmentPreview.self, Inspect.self, Export.self, Distort.self, Bench.self])
}
