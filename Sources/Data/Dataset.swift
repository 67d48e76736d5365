import Foundation

/// The datasets le4nn trains on, and where their files are looked for.
public enum Dataset: String, CaseIterable, Sendable {
    case mnist, fashion, cifar10

    public static let fashionClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Folders below the data root tried in order; the root itself is tried last.
    var subfolders: [String] {
        switch self {
        case .mnist: return ["mnist", "MNIST", "mnist/raw"]
        case .fashion: return ["fashion-mnist", "fashion", "FashionMNIST/raw"]
        case .cifar10: return ["cifar-10-batches-py", "cifar-10-jpeg", "cifar10", "cifar-10"]
        }
    }

    /// Folders outside the data root where a system package installs the dataset.
    var systemFolders: [String] {
        self == .fashion ? ["/usr/share/datasets/fashion-mnist"] : []
    }

    /// The name people know it by, for messages: MNIST, Fashion-MNIST, CIFAR-10.
    public var name: String {
        switch self {
        case .mnist: return "MNIST"
        case .fashion: return "Fashion-MNIST"
        case .cifar10: return "CIFAR-10"
        }
    }

    /// The shape of one image, [channels, height, width].
    public var imageShape: [Int] { self == .cifar10 ? [3, 32, 32] : [1, 28, 28] }

    /// Whether an image and its mirror show the same class: garments and objects, not digits.
    public var mirrorable: Bool { self != .mnist }

    /// Classes: ten in each (digits, garments, CIFAR-10's objects).
    public var classCount: Int { 10 }

    /// Images in the official training split (for estimates made before loading it).
    public var trainingImages: Int { self == .cifar10 ? 50_000 : 60_000 }
    /// Images in the test split (10,000 for each).
    public var testImages: Int { 10_000 }

    /// The file whose presence identifies a folder holding this dataset.
    var markerFile: String {
        self == .cifar10 ? "test_batch" : "t10k-labels-idx1-ubyte"
    }

    /// Finds the folder holding this dataset below `root` (or in a system location).
    public func folder(root: String?) throws -> String {
        var tried = [String]()
        let fm = FileManager.default
        let roots = root.map { r in subfolders.map { r + "/" + $0 } + [r] } ?? []
        for dir in roots + systemFolders {
            tried.append(dir)
            let marker = dir + "/" + markerFile
            if fm.fileExists(atPath: marker) || fm.fileExists(atPath: marker + ".gz") { return dir }
        }
        let hint = root == nil ? ": give --data DIR (the folder holding \(subfolders[0])/) or set LE4NN_DATA" : ""
        throw DataError("", "no \(rawValue) data found\(hint)" + (tried.isEmpty ? "" : "; looked in: \(tried.joined(separator: ", "))"))
    }

    /// The IDX files of a split in `dir` (MNIST and Fashion-MNIST): each as it is, or gzipped.
    func idxFiles(in dir: String, train: Bool) -> (images: String, labels: String) {
        let prefix = train ? "train" : "t10k"
        func pick(_ name: String) -> String {
            let p = dir + "/" + name
            return FileManager.default.fileExists(atPath: p) ? p : p + ".gz"
        }
        return (pick("\(prefix)-images-idx3-ubyte"), pick("\(prefix)-labels-idx1-ubyte"))
    }

    /// Loads the training or test split.
    public func load(root: String?, train: Bool) throws -> ImageSet {
        let dir = try folder(root: root)
        switch self {
        case .mnist, .fashion:
            let names = self == .mnist ? (0 ... 9).map(String.init) : Dataset.fashionClassNames
            let files = idxFiles(in: dir, train: train)
            return try IDX.readSet(images: files.images, labels: files.labels, classNames: names)
        case .cifar10:
            return try CIFAR10.read(folder: dir, train: train)
        }
    }

    /// The files `load` reads for either split (those that exist), so that no command writes
    /// over its own data; none when the dataset is not found.
    public func files(root: String?) -> [String] {
        guard let dir = try? folder(root: root) else { return [] }
        let paths: [String]
        switch self {
        case .mnist, .fashion:
            paths = [true, false].map { idxFiles(in: dir, train: $0) }.flatMap { [$0.images, $0.labels] }
        case .cifar10:
            paths = ([CIFAR10.metaFile] + CIFAR10.batchFiles(train: true) + CIFAR10.batchFiles(train: false)).map { dir + "/" + $0 }
        }
        return paths.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The data root from a `--data` option, else from `LE4NN_DATA`.
    public static func root(_ option: String?) -> String? {
        option ?? ProcessInfo.processInfo.environment["LE4NN_DATA"]
    }
}
