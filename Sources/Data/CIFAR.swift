/// CIFAR-10 "python version": pickled dicts `data_batch_1`…`data_batch_5`, `test_batch` and
/// `batches.meta`, as Python 2 wrote them (byte-string keys) or re-pickled by Python 3 (str keys).
public enum CIFAR10 {
    public static let defaultClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"]
    public static let trainFiles = (1 ... 5).map { "data_batch_\($0)" }
    public static let testFile = "test_batch"
    /// The class names (`label_names`), beside the batches.
    public static let metaFile = "batches.meta"

    /// The batches of the training set (all five) or of the test set.
    public static func batchFiles(train: Bool) -> [String] { train ? trainFiles : [testFile] }

    /// Reads one batch: `data` an (N, 3072) u1 array of R, G, B planes, `labels` a list of N ints.
    public static func readBatch(_ path: String, classNames: [String] = defaultClassNames) throws -> ImageSet {
        guard case .dict(let d) = try Pickle.load(path) else {
            throw DataError(path, "not a CIFAR-10 batch: the pickle is not a dict")
        }
        guard case .array(let a)? = d["data"] else {
            throw DataError(path, "not a CIFAR-10 batch: no 'data' array (keys: \(d.keys.joined(separator: ", ")))")
        }
        guard a.shape.count == 2, a.shape[1] == 3 * 32 * 32, a.dtype.kind == .unsigned else {
            throw DataError(path, "CIFAR-10 'data' must be (N, 3072) uint8, found \(a.shape) \(a.dtype)")
        }
        let labels: [PickleValue]
        switch d["labels"] ?? d["fine_labels"] {
        case .list(let l)?: labels = l.items
        case .array(let la)?:
            labels = la.doubles().map { $0.isFinite && $0 == $0.rounded() && abs($0) < 1e9 ? .int(Int($0)) : .none }
        default: throw DataError(path, "not a CIFAR-10 batch: no 'labels' list")
        }
        guard labels.count == a.shape[0] else {
            throw DataError(path, "has \(labels.count) labels for \(a.shape[0]) images")
        }
        let lb = try labels.enumerated().map { i, v -> UInt8 in
            guard case .int(let n) = v, n >= 0, n < classNames.count else {
                throw DataError(path, "label \(i) is not a class index 0..<\(classNames.count)")
            }
            return UInt8(n)
        }
        let pixels: [UInt8]
        do { pixels = try a.bytesCOrder() } catch let e as NumpyError { throw DataError(path, e.message) }
        return ImageSet(count: a.shape[0], channels: 3, height: 32, width: 32, pixels: pixels,
                        labels: lb, classNames: classNames)
    }

    /// Reads `label_names` from `batches.meta`.
    public static func readClassNames(_ path: String) throws -> [String] {
        guard case .dict(let d) = try Pickle.load(path), case .list(let l)? = d["label_names"] else {
            throw DataError(path, "not a CIFAR-10 batches.meta: no 'label_names' list")
        }
        guard l.items.count <= 256 else { throw DataError(path, "label_names lists \(l.items.count) classes; at most 256 are supported") }
        return try l.items.map {
            guard let t = $0.text else { throw DataError(path, "label_names holds a \($0.kind)") }
            return t
        }
    }

    /// Reads the training set (all five batches) or the test set from a `cifar-10-batches-py` folder.
    public static func read(folder: String, train: Bool) throws -> ImageSet {
        let names = (try? readClassNames(folder + "/" + metaFile)) ?? defaultClassNames
        return ImageSet.concatenate(try batchFiles(train: train).map { try readBatch(folder + "/" + $0, classNames: names) })
    }
}
