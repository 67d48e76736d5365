import ArgumentParser
import Contest
import LE4Data

/// Where the data is: for commands that always use MNIST (`contest`, `classify`).
struct DataFolderOptions: ParsableArguments {
    @Option(help: "Data folder holding mnist/, fashion-mnist/, cifar-10-batches-py/ (default: $LE4NN_DATA; Fashion-MNIST is also found in /usr/share/datasets).")
    var data: String?

    var root: String? { Dataset.root(data) }
}

/// Where the data is and which dataset to use.
struct DataOptions: ParsableArguments {
    @OptionGroup var folder: DataFolderOptions
    @Option(name: .customLong("dataset"),
            help: "Dataset (default: mnist; with --model, the one the models were trained on).")
    var chosenDataset: Dataset?

    var root: String? { folder.root }
    /// The dataset of a command without models: --dataset, else MNIST. Commands with models
    /// ask their `Ensemble` instead, which knows what the models were trained on.
    var dataset: Dataset { chosenDataset ?? .mnist }
}

extension Dataset: ExpressibleByArgument {}

enum Split: String, ExpressibleByArgument, CustomStringConvertible {
    case train, test
    var description: String { rawValue }
}

/// A list of indices written as ranges and single values: `0..99`, `3,5,8`, `0..9,42`.
struct IndexList: ExpressibleByArgument, CustomStringConvertible {
    var ranges: [ClosedRange<Int>]
    var values: [Int] { ranges.flatMap { Array($0) } }
    /// The spelling it is parsed from, e.g. `0..9,42` (shown as the default in `--help`).
    var description: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)..\($0.upperBound)" }.joined(separator: ",")
    }

    init(ranges: [ClosedRange<Int>]) { self.ranges = ranges }

    init?(argument: String) {
        var r = [ClosedRange<Int>]()
        for part in argument.split(separator: ",") {
            let ends = part.components(separatedBy: "..")
            guard let a = Int(ends[0]), a >= 0 else { return nil }
            if ends.count == 1 { r.append(a ... a); continue }
            guard ends.count == 2, let b = Int(ends[1]), b >= a, b < 10_000_000 else { return nil }
            r.append(a ... b)
        }
        if r.isEmpty { return nil }
        ranges = r
    }
}

/// How a command treats files already standing at its output paths (`OutputPolicy`).
struct ReplaceOptions: ParsableArguments {
    @Flag(help: "Replace an existing file of another kind at an output path (one le4nn did not write, such as a dataset file or a PNG of your own). Never replaced, even so: a file the command reads, and a read-only file.")
    var force = false

    /// The policy of a command that reads `inputs`.
    func policy(inputs: [String]) -> OutputPolicy { OutputPolicy(inputs: inputs, force: force) }
}
