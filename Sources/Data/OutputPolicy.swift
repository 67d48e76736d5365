import Foundation

/// What a file holds, as far as replacing it goes: a command replaces an existing file only when
/// it writes the same kind (a model over a model, an answer file over an answer file), so that an
/// output name that happens to be a dataset, a dump or a user's notes never destroys them.
public enum FileKind: String, Sendable {
    case model = "an le4nn model or checkpoint"
    case answers = "an answer file (one class per line)"
    case history = "an le4nn training history (CSV)"
    case table = "an le4nn table of misclassified images (CSV)"
    case sidecar = "an le4nn contest description (JSON)"
    case image = "a PNG written by le4nn"
    /// Anything else: data, other programs' files, PNGs le4nn did not write.
    case other = "a file le4nn did not write"

    /// The first line of a history CSV (`History.write`).
    public static let historyHeader = "epoch,loss,train_accuracy,validation_loss,validation_accuracy,learning_rate,images_per_second,seconds"
    /// The first line of a table of misclassified images.
    public static let tableHeader = "rank,index,true,predicted,confidence,file"

    /// The kind of the regular file at `path`, from its first bytes; nil when it is empty
    /// (an empty file holds nothing to lose). Answer files are read whole, up to 16 MiB.
    static func of(_ path: String, size: Int) -> FileKind? {
        guard size > 0 else { return nil }
        guard let fh = fopen(path, "rb") else { return .other }
        defer { fclose(fh) }
        let n = min(size, 1 << 24)
        var head = [UInt8](repeating: 0, count: n)
        head.removeLast(n - head.withUnsafeMutableBytes { fread($0.baseAddress, 1, n, fh) })
        // ModelFile writes `arch.npy` as the first member of its zip.
        if head.starts(with: [0x50, 0x4B, 3, 4]), head.count >= 38, Array(head[30 ..< 38]) == Array("arch.npy".utf8) { return .model }
        if head.starts(with: PNG.signature) { return PNG.isTagged(head) ? .image : .other }
        let text = String(decoding: head.prefix(4096), as: UTF8.self)
        if text.hasPrefix(historyHeader + "\n") { return .history }
        if text.hasPrefix(tableHeader + "\n") { return .table }
        if text.hasPrefix("{"), text.contains("\"answers\""), text.contains("\"members\"") { return .sidecar }
        // One class number per line, every line ending in a newline, as `writeAnswers` writes.
        let lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if size <= n, head.last == UInt8(ascii: "\n"),
           lines.dropLast().allSatisfy({ (1 ... 5).contains($0.count) && $0.allSatisfy { (0x30 ... 0x39).contains($0) } }) {
            return .answers
        }
        return .other
    }
}

/// A file by its identity (device and inode, links followed), not by its spelling.
public struct FileIdentity: Hashable, Sendable {
    let device: UInt64, inode: UInt64

    /// The identity of the file `path` names now; nil when there is none.
    public init?(_ path: String) {
        var st = stat()
        guard !path.isEmpty, stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}

/// The rules for what already stands at an output path, checked where every output is opened
/// (`FileIO.writeAtomically`, `FileIO.checkWritable`):
/// - a file this command reads (`inputs`, by identity) is never replaced;
/// - a read-only file is never replaced;
/// - a file of another kind than the one written is replaced only with `force` (`--force`).
public struct OutputPolicy: Sendable {
    /// The files the command reads.
    public let inputs: Set<FileIdentity>
    /// Whether a file of another kind may be replaced.
    public let force: Bool

    /// The policy of a command reading `inputs` (paths; those that do not exist are ignored).
    public init(inputs: [String] = [], force: Bool = false) {
        self.inputs = Set(inputs.compactMap(FileIdentity.init))
        self.force = force
    }

    /// The longest path and file name the system takes (Linux's PATH_MAX and NAME_MAX, bytes).
    static let maxPath = 4095, maxName = 255

    /// Throws, naming `path`, unless a file of `kind` may be written there: a usable name, and
    /// nothing there or a writable regular file that is no input and of `kind` (or `force`).
    public func check(_ path: String, writing kind: FileKind) throws {
        try OutputPolicy.checkName(path)
        var st = stat()
        guard lstat(path, &st) == 0 else { return }  // absent (or unreachable: the write will say why)
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            let what = [S_IFDIR: "a folder", S_IFLNK: "a symbolic link", S_IFCHR: "a device", S_IFBLK: "a device",
                        S_IFIFO: "a FIFO", S_IFSOCK: "a socket"][type] ?? "not a regular file"
            throw DataError(path, "is \(what); refusing to replace it with an output file")
        }
        if let id = FileIdentity(path), inputs.contains(id) {
            throw DataError(path, "is an input of this command; le4nn never replaces a file it reads: choose another output name")
        }
        // As root, access(2) calls every file writable: the permission bits say what the owner meant.
        guard st.st_mode & 0o222 != 0 else {
            throw DataError(path, "is read-only; le4nn never replaces a read-only file: choose another output name "
                + "(or make it writable, chmod u+w, if it may go)")
        }
        guard !force, let found = FileKind.of(path, size: Int(st.st_size)), found != kind else { return }
        throw DataError(path, "is \(found.rawValue), not \(kind.rawValue): le4nn does not replace it without --force; "
            + "choose another output name, or give --force to replace it")
    }

    /// Refuses an empty path and one the system cannot take (a longer one would fail only at the
    /// end of the run, or after creating its folders), naming its length rather than repeating it.
    static func checkName(_ path: String) throws {
        guard !path.isEmpty else { throw DataError("", "an output file name is empty") }
        let bytes = path.utf8.count
        guard bytes <= maxPath else {
            throw DataError(quote(path, limit: 60), "the path is \(bytes) bytes long; the system takes at most \(maxPath)")
        }
        if let long = path.split(separator: "/").first(where: { $0.utf8.count > maxName }) {
            throw DataError(quote(path, limit: 60), "a name in the path is \(long.utf8.count) bytes long; the system takes at most \(maxName)")
        }
    }
}
