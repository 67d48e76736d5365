import ArgumentParser
import Contest
import Foundation
import LE4Data
import Net

/// `le4nn inspect`: what a data, model or answer file is.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say what files are: IDX images or labels, CIFAR-10 batch, pickled array, PNG, le4nn model, answer file.",
        discussion: """
        Data files: kind, count, shape, dtype, value range and, for labels, the class \
        histogram; gzip-compressed files are read transparently. A model: its net, dataset, \
        augmentation, epochs done of those planned, best epoch and its validation accuracy, \
        weight average, parameters and size (--arrays lists its arrays). An answer file is \
        checked: one digit 0–9 a line, 10,000 lines for the contest; bad lines are named and \
        make the command fail. With --labels, each answer file is also scored against an IDX \
        labels file of the same images (a stand-in that `le4nn distort` wrote, say).

          le4nn inspect runs/a.npz submissions/answer.txt
          le4nn inspect --arrays runs/a.checkpoint.npz
          le4nn inspect submissions/new-writers.txt --labels runs/new-writers-labels-idx1-ubyte
          le4nn inspect ../shared/data/mnist/train-images-idx3-ubyte.gz \\
              ../shared/data/cifar-10-jpeg/test_batch
        """)

    @Argument(help: "Files to describe.")
    var files: [String]
    @Flag(help: "For .npz files, also list every array: name, shape and dtype.") var arrays = false
    @Option(help: "IDX labels of the images answered: answer files are scored against them.") var labels: String?

    func run() throws {
        var failed = 0
        for f in files {
            do { print(try describe(f)) } catch {
                printError("\(error)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }

    func describe(_ path: String) throws -> String {
        let raw = try FileIO.read(path)
        let head = Array(raw.prefix(8))
        if head.starts(with: [0x89, 0x50, 0x4e, 0x47]) {
            let b = try PNG.read(path)
            return "\(path): PNG \(b.width)×\(b.height), \(b.channels == 3 ? "RGB" : "gray")" + range(b.pixels)
        }
        if head.starts(with: [0x50, 0x4b, 0x03, 0x04]) {
            let list = try NPZ.read(path)
            let summary = list.contains { $0.0 == "arch" } ? try describeModel(path, size: raw.count)
                : "\(path): .npz with \(list.count) arrays, \(byteCount(raw.count))" + (arrays ? "" : " (--arrays lists them)")
            guard arrays else { return summary }
            return summary + "\n  arrays:\n" + list.map { name, a in
                "    \(escaped(name)) \(a.shape) \(a.descr)" + (a.text.map { " " + quote($0, limit: 80) } ?? "")
            }.joined(separator: "\n")
        }
        let bytes = FileIO.isGzip(raw) ? try FileIO.gunzip(raw, path: path) : raw
        if bytes.first == 0x80 || bytes.first == 0x28 || bytes.first == 0x63 || bytes.first == 0x7d {
            return try describePickle(path)
        }
        // IDX headers start with two zero bytes; text has none.
        if !bytes.contains(0) { return try describeAnswers(path, bytes) }
        let idx = try IDX.parse(bytes, path: path)
        if idx.dims.count == 1 {
            let counts = histogram(idx.bytes)
            return "\(path): IDX labels, \(idx.dims[0]) labels, u1" + range(idx.bytes) + "\n  classes: " + counts
        }
        return "\(path): IDX images, \(idx.dims[0]) of \(shapeText(Array(idx.dims.dropFirst()))), u1" + range(idx.bytes)
    }

    /// A model or checkpoint: the network, and what its training record says of the run.
    func describeModel(_ path: String, size: Int) throws -> String {
        let model = try ModelFile.load(path)
        let net = model.network
        var lines = ["\(path): le4nn \(model.step == nil ? "model" : "checkpoint"), \(byteCount(size))",
                     "  net: " + (Network.presetName(of: net.spec).map { "\($0) (\(net.spec))" } ?? net.spec),
                     "  \(shapeText(net.inputShape)) input, \(net.classes) classes, "
                        + "\(net.parameterCount) parameters"]
        guard let record = try? JSONDecoder().decode(TrainRecord.self, from: Foundation.Data(model.meta.utf8)) else {
            return (lines + ["  no training record (meta \(quote(model.meta, limit: 80)))"]).joined(separator: "\n")
        }
        let s = record.settings
        lines.append("  dataset: \(s.dataset)" + (s.trainLimit.map { ", first \($0) training images" } ?? "")
                     + ", \(s.validation) held out for validation")
        lines.append("  augmentation: \(s.augment)")
        lines.append("  training: \(s.optimizer) lr \(s.learningRate) \(s.schedule), batch \(s.batch), smoothing \(s.smoothing), "
                     + "weight decay \(s.weightDecay), seed \(s.seed)")
        lines.append("  EMA: " + (s.ema.map { "\($0) (\(model.step == nil ? "these weights are" : "the model file holds") the moving average)" } ?? "none"))
        lines.append("  epochs: \(record.epochsDone) of \(s.epochs) done" + (record.epochsDone < s.epochs ? " (unfinished: continue with train --resume)" : "")
                     + ", \(duration(record.seconds)) on \(record.threads) threads")
        if record.epochsDone > 0 {
            lines.append("  best epoch: " + (record.bestValidationAccuracy.map {
                String(format: "%d, validation accuracy %.2f%%", record.bestEpoch, 100 * $0)
            } ?? "\(record.bestEpoch) (the last: no images held out)"))
        }
        return lines.joined(separator: "\n")
    }

    /// Checks a text file as an answer file (`predict` and `contest` write them): one digit 0–9 a
    /// line, 10,000 lines for the contest. Bad lines, named by number, are an error.
    func describeAnswers(_ path: String, _ bytes: [UInt8]) throws -> String {
        // Split on bytes: as Characters, "\r\n" would be one and a Windows line end would go unseen.
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        let lastHasNewline = bytes.last == 0x0A
        if lastHasNewline || bytes.isEmpty { lines.removeLast() }
        var answers = [Int](), bad = [String]()
        for (n, line) in lines.enumerated() {
            if line.count == 1, let d = line.first, (0x30 ... 0x39).contains(d) { answers.append(Int(d - 0x30)); continue }
            let why = line.isEmpty ? "empty"
                : line.last == 0x0D ? "ends with a carriage return (a Windows line end)"
                : "\(quote(String(decoding: line, as: UTF8.self), limit: 20)) is not one digit 0–9"
            bad.append("line \(n + 1): \(why)")
        }
        let digits = answers.count
        guard digits > 0, digits * 2 >= lines.count else {
            throw DataError(path, lines.isEmpty ? "empty; an answer file has one digit 0–9 a line"
                : "a text file of \(lines.count) lines, not an answer file (one digit 0–9 a line): \(bad[0])")
        }
        var counts = [Int](repeating: 0, count: 10)
        for a in answers { counts[a] += 1 }
        let classes = "\n  classes: " + classHistogram(counts)
        guard bad.isEmpty else {
            let shown = bad.prefix(5).map { "\n  " + $0 }.joined() + (bad.count > 5 ? "\n  … and \(bad.count - 5) more" : "")
            throw DataError(path, "not a valid answer file: \(bad.count) of its \(lines.count) lines are not one digit 0–9:" + shown + classes)
        }
        let contest = 10_000
        return "\(path): answer file, \(lines.count) lines of one digit each"
            + (lines.count == contest ? ": a complete contest answer" : " (a contest answer has \(contest), one for each image)")
            + (lastHasNewline ? "" : "; no newline after the last line") + classes + (try score(answers))
    }

    /// The line scoring `answers` against --labels, or "" without it.
    func score(_ answers: [Int]) throws -> String {
        guard let path = labels else { return "" }
        let truth = try IDX.readLabels(path)
        guard truth.count == answers.count else {
            throw DataError(path, "holds \(truth.count) labels for an answer file of \(answers.count) lines")
        }
        let right = zip(answers, truth).filter { $0 == Int($1) }.count
        return String(format: "\n  scored against %@: accuracy %.2f%% (%d/%d)", path, 100 * accuracy(answers, truth), right, truth.count)
    }

    func describePickle(_ path: String) throws -> String {
        switch try Pickle.load(path) {
        case .array(let a):
            let v = a.doubles()
            return "\(path): pickled NumPy array \(a.shape) \(a.dtype)\(a.fortran ? " (Fortran order)" : ""), "
                + "values \(v.min() ?? 0)…\(v.max() ?? 0)"
        case .dict(let d) where d["data"] != nil:
            let set = try CIFAR10.readBatch(path)
            let label = d["batch_label"]?.text.map { " " + quote($0) } ?? ""
            return "\(path): CIFAR-10 batch\(label), \(set.count) images of 3×32×32, u1" + range(set.pixels)
                + "\n  classes: " + histogram(set.labels)
        case .dict(let d) where d["label_names"] != nil:
            return "\(path): CIFAR-10 batches.meta, classes: " + (try CIFAR10.readClassNames(path)).joined(separator: ", ")
        case let v:
            return "\(path): pickle holding a \(v.kind)"
        }
    }

    func range(_ b: [UInt8]) -> String { b.isEmpty ? "" : ", values \(b.min()!)…\(b.max()!)" }

    func histogram(_ labels: [UInt8]) -> String { classHistogram(ImageSet.counts(of: labels)) }
}

/// How often each class occurs, as "0=980 1=1135 …".
func classHistogram(_ counts: [Int]) -> String {
    counts.enumerated().map { "\($0)=\($1)" }.joined(separator: " ")
}

/// A file size for people: "812 bytes", "1.4 MB".
func byteCount(_ n: Int) -> String {
    n < 1000 ? "\(n) bytes" : n < 1_000_000 ? String(format: "%.1f kB", Double(n) / 1e3) : String(format: "%.1f MB", Double(n) / 1e6)
}
