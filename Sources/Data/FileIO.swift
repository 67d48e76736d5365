import CZlib
import Foundation

/// Whole-file reading (gzip-aware) and crash-safe writing.
public enum FileIO {
    /// Reads a whole file into memory.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let fh = fopen(path, "rb") else {
            throw DataError(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(fh) }
        var st = stat()
        guard fstat(fileno(fh), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw DataError(path, "not a regular file")
        }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, fh) }
        guard got == size else { throw DataError(path, "read \(got) of \(size) bytes") }
        return bytes
    }

    /// True when `bytes` start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Reads a file, inflating it when it is gzip-compressed (detected by its magic, not its name).
    /// `limit` bounds the inflated size so that a hostile stream cannot exhaust memory.
    public static func readMaybeGzip(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
        let raw = try read(path)
        return isGzip(raw) ? try gunzip(raw, path: path, limit: limit) : raw
    }

    /// Inflates a gzip (or zlib) stream held in memory.
    /// `windowBits` is zlib's: the default 15 + 32 detects gzip or zlib headers, -15 reads raw deflate
    /// (zip), for which `limit` is taken as the size the member declares.
    public static func gunzip(_ input: [UInt8], path: String, limit: Int = 1 << 31, windowBits: Int32 = 15 + 32) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(path, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        // Reserving the declared size (the gzip trailer's size mod 2^32, or a zip member's) saves
        // regrowing for real files; but a damaged or hostile file declares anything, so the
        // reservation never exceeds what the input could hold: deflate expands at most 1032-fold.
        var declared = limit
        if windowBits > 15, input.count >= 18 {
            let n = input.count
            declared = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        }
        let (most, overflow) = input.count.multipliedReportingOverflow(by: 1032)
        var out = [UInt8]()
        out.reserveCapacity(min(declared, limit, overflow ? Int.max : most))
        var status: Int32 = Z_OK
        // zlib writes into a chunk that is appended to `out`, so `out` holds only bytes inflated:
        // memory grows with the output, not with a size declared up front.
        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 15)
        defer { chunk.deallocate() }
        try input.withUnsafeBufferPointer { inp in
            // zlib takes 32-bit lengths: the input goes in in pieces of at most 1 GiB.
            var fed = 0
            while true {
                if stream.avail_in == 0 && fed < inp.count {
                    let n = min(inp.count - fed, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress! + fed)
                    stream.avail_in = UInt32(n)
                    fed += n
                }
                stream.next_out = chunk.baseAddress
                stream.avail_out = UInt32(chunk.count)
                status = inflate(&stream, Z_NO_FLUSH)
                let produced = chunk.count - Int(stream.avail_out)
                guard produced <= limit - out.count else { throw DataError(path, "inflates to more than \(limit) bytes") }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[..<produced]))
                if status == Z_STREAM_END {
                    // A gzip file may hold several members one after another (as `cat a.gz b.gz`
                    // makes): like gunzip, read them all, and ignore trailing bytes that do not
                    // start another member (padding).
                    let next = fed - Int(stream.avail_in)
                    guard windowBits > 15, next + 1 < inp.count, inp[next] == 0x1F, inp[next + 1] == 0x8B else { break }
                    guard inflateReset(&stream) == Z_OK else { throw DataError(path, "zlib could not restart inflating") }
                    continue
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 && fed == inp.count {
                    throw DataError(path, "gzip stream is truncated (ended after \(out.count) inflated bytes)")
                }
                if status != Z_OK && status != Z_BUF_ERROR {
                    let why = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DataError(path, "corrupt gzip stream: \(why)")
                }
            }
        }
        return out
    }

    /// Writes `bytes`, a file of `kind`, to `path` through a temporary file in the same folder and
    /// a rename, so a reader never sees a half-written file and an existing file is replaced whole
    /// or not at all; and only when `policy` allows it (never an input, a read-only file, or one of
    /// another kind without `--force`). A file it replaces keeps its permissions.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, as kind: FileKind, policy: OutputPolicy = OutputPolicy()) throws {
        try policy.check(path, writing: kind)
        var old = stat()
        let mode = lstat(path, &old) == 0 ? old.st_mode & 0o7777 : nil
        let tmp = try writeTemporary(bytes, for: path, mode: mode)
        guard rename(tmp, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(tmp)
            throw DataError(path, "cannot move the finished file into place: \(why)")
        }
    }

    /// Checks before a long job that `path` can be written at its end: `policy` allows a file of
    /// `kind` there, its folder exists, and a test block of 64 KiB (more than an answer file) can
    /// be written and flushed there: a read-only or full disk fails now rather than after hours of
    /// training. Also removes temporaries of `path` left by killed runs.
    public static func checkWritable(_ path: String, as kind: FileKind, policy: OutputPolicy = OutputPolicy()) throws {
        try policy.check(path, writing: kind)
        removeStaleTemporaries(of: path)
        unlink(try writeTemporary([UInt8](repeating: 0, count: 1 << 16), for: path, mode: nil))
    }

    /// Writes `bytes` flushed to disk under `path`'s temporary name and returns that name;
    /// on failure removes it and throws, naming `path`.
    /// `mode`: the permissions to give it (those of the file it replaces), else the default.
    private static func writeTemporary(_ bytes: [UInt8], for path: String, mode: mode_t?) throws -> String {
        let tmp = temporaryName(path, pid: getpid())
        guard let fh = fopen(tmp, "wb") else {
            throw DataError(path, "cannot write: \(String(cString: strerror(errno)))")
        }
        if let m = mode { fchmod(fileno(fh), m) }
        let wrote = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, fh) }
        let flushed = fflush(fh) == 0 && fsync(fileno(fh)) == 0
        let why = String(cString: strerror(errno))
        fclose(fh)
        guard wrote == bytes.count, flushed else {
            unlink(tmp)
            throw DataError(path, "write failed: \(why)")
        }
        return tmp
    }

    /// The name `path` is written under by process `pid` of this host until it is complete. The
    /// host is part of it: on a folder that cluster nodes share, a process id says nothing about
    /// another node's processes.
    static func temporaryName(_ path: String, pid: pid_t) -> String { path + ".tmp-\(host)-\(pid)" }

    /// This machine's host name, in characters safe in a file name.
    private static let host: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "host" }
        let text = String(cString: name).unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "." ? Character($0) : "_" }
        return text.isEmpty ? "host" : String(text.prefix(64))
    }()

    /// Deletes `path`'s temporaries whose process on this host is gone: a killed run leaves one
    /// behind (as large as a model), and nothing else would ever remove it.
    private static func removeStaleTemporaries(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let prefix = temporaryName((path as NSString).lastPathComponent, pid: 0).dropLast()  // "name.tmp-host-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        where name.hasPrefix(prefix) {
            // ESRCH: no such process. A live writer (or one of another user, EPERM) keeps its file.
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(folder.isEmpty ? name : folder + "/" + name)
        }
    }

    /// Writes UTF-8 text atomically (see the bytes' `writeAtomically`).
    public static func writeAtomically(_ text: String, to path: String, as kind: FileKind, policy: OutputPolicy = OutputPolicy()) throws {
        try writeAtomically(Array(text.utf8), to: path, as: kind, policy: policy)
    }

    /// CRC-32 as zip and gzip use it.
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: uLong = CZlib.crc32(0, nil, 0)
        var offset = 0
        while offset < bytes.count {  // zlib takes 32-bit lengths
            let n = min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(n))
            offset += n
        }
        return UInt32(crc)
    }
}

/// An advisory lock (flock) on `<output>.lock`, so that two runs never write the same output:
/// they would mix one run's weights with the other's metadata. The kernel drops it when the
/// holder ends, even killed, so a stale lock file never blocks anyone; a holder that lets go
/// normally also removes the file, so finished runs leave none behind.
public final class OutputLock {
    private let fd: Int32
    private let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Takes the lock of `output`, waiting for another holder when `wait`, else returning nil.
    public static func take(_ output: String, wait: Bool) throws -> OutputLock? {
        let path = output + ".lock"
        // Our lock files are empty: anything else at that name is someone's file, which the
        // holder would remove when it lets go.
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG || st.st_size > 0 {
            throw DataError(path, "is not an le4nn lock file (not an empty regular file); move it away to run")
        }
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else { throw DataError(path, "cannot create the lock file: \(String(cString: strerror(errno)))") }
            while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
                guard errno == EINTR else {
                    let why = errno
                    close(fd)
                    if why == EWOULDBLOCK { return nil }
                    throw DataError(path, "cannot lock: \(String(cString: strerror(why)))")
                }
            }
            // The holder before may have removed the file while this waited: a lock on a file no
            // longer at `path` guards nothing, so take the one there now.
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_dev == named.st_dev, held.st_ino == named.st_ino {
                return OutputLock(fd: fd, path: path)
            }
            close(fd)
        }
    }

    /// Removes the file while still holding it, then lets go: whoever waits on it retries.
    deinit {
        unlink(path)
        close(fd)
    }
}


/// The folders a command creates for its outputs. Unless the command marks them `kept` (it
/// succeeded), they are removed again when this goes away, innermost first and only while
/// empty: a failed run leaves no empty folders behind, and never removes anything it did not make.
public final class CreatedFolders {
    private var created = [String]()
    /// Set when the command has written its outputs: the folders stay.
    public var kept = false

    public init() {}

    /// Creates the folder `path` and any missing parents, or fails naming the one that failed.
    public func make(_ path: String) throws {
        try OutputPolicy.checkName(path)
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            if mkdir(prefix, 0o777) == 0 { created.append(prefix); continue }
            let why = errno
            var st = stat()
            guard why == EEXIST, stat(prefix, &st) == 0 else {
                throw DataError(prefix, "cannot create folder: \(String(cString: strerror(why)))")
            }
            guard st.st_mode & S_IFMT == S_IFDIR else { throw DataError(prefix, "is a file, not a folder") }
        }
    }

    /// Creates the folder that will hold the file `path` (and its parents), so that every
    /// command writing a file accepts a new folder in its output path, as `--out runs/a.npz` does.
    public func makeParent(of path: String) throws {
        try OutputPolicy.checkName(path)
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try make(folder) }
    }

    deinit {
        guard !kept else { return }
        for folder in created.reversed() { rmdir(folder) }
    }
}
