import ArgumentParser

/// The `le4nn` command: each job of the user is a subcommand.
struct LE4NN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "le4nn",
        abstract: "Train convolutional networks from scratch on the CPU and answer the le4nn digit contest.",
        subcommands: [ContestCommand.self, Train.self, Evaluate.self, Predict.self, Misclassified.self, Classify.self, AugmentPreview.self, Inspect.self, Export.self, Bench.self])
}
