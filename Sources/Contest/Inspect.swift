import ArgumentParser
import Foundation
import LE4Data

/// `le4nn inspect`: what a data or model file is.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say what data files are: IDX images or labels, CIFAR-10 batch, pickled array, PNG, .npz model.",
        discussion: """
        For each file prints its kind, count, shape, dtype, value range and, for labels, the \
        class histogram. Gzip-compressed files are read transparently.

          le4nn inspect ../shared/data/mnist/train-images-idx3-ubyte.gz \\
              ../shared/data/cifar-10-jpeg/test_batch
        """)

    @Argument(help: "Files to describe.")
    var files: [String]

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
            let arrays = try NPZ.read(path)
            let list = arrays.map { name, a in a.text.map { "\(escaped(name))=\(quote($0, limit: 80))" } ?? "\(escaped(name))\(a.shape)" }
            return "\(path): .npz with \(arrays.count) arrays: " + list.joined(separator: ", ")
        }
        let bytes = FileIO.isGzip(raw) ? try FileIO.gunzip(raw, path: path) : raw
        if bytes.first == 0x80 || bytes.first == 0x28 || bytes.first == 0x63 || bytes.first == 0x7d {
            return try describePickle(path)
        }
        let idx = try IDX.parse(bytes, path: path)
        if idx.dims.count == 1 {
            let counts = histogram(idx.bytes)
            return "\(path): IDX labels, \(idx.dims[0]) labels, u1" + range(idx.bytes) + "\n  classes: " + counts
        }
        return "\(path): IDX images, \(idx.dims[0]) of \(idx.dims.dropFirst().map(String.init).joined(separator: "×")), u1" + range(idx.bytes)
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

    func histogram(_ labels: [UInt8]) -> String {
        ImageSet.counts(of: labels).enumerated().map { "\($0)=\($1)" }.joined(separator: " ")
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
}

/// Writes one warning line to standard error: the command goes on, but its result may not be what was meant.
func printWarning(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}
