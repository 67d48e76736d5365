/// A decoder for the subset of Python's pickle format that NumPy arrays, CIFAR-10 batches and the
/// contest dump use (protocols 0–5, as Python 2 and 3 write them).
///
/// Pickle is a program for a stack machine; this is a decoder, not an interpreter. Only the
/// globals in `PickleValue.Global` can be named, none of them is executed as code (each is
/// understood by its name and rebuilt here), every declared length is checked against the bytes
/// that remain, and nesting depth is bounded. Anything else is refused with its name and offset.
public enum Pickle {
    /// Deepest container nesting accepted (real data nests two or three deep).
    public static let maxDepth = 64
    /// Largest memo index and stack we accept; they bound what a hostile file can make us allocate.
    static let maxMemo = 1 << 20
    static let maxStack = 1 << 20

    /// Decodes one pickle from `bytes`. `path` only names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String = "") throws -> PickleValue {
        var d = Decoder(bytes: bytes, path: path)
        return try d.run()
    }

    /// Reads and decodes a pickle file (gzip-compressed files are inflated first).
    public static func load(_ path: String) throws -> PickleValue {
        try decode(FileIO.readMaybeGzip(path), path: path)
    }
}

/// Bytes of a pickled string: a range of the file (no copy) or bytes we had to build.
public struct PickleBytes: @unchecked Sendable {
    let storage: [UInt8]
    let range: Range<Int>

    init(_ storage: [UInt8], _ range: Range<Int>) { self.storage = storage; self.range = range }
    init(owned: [UInt8]) { storage = owned; range = 0 ..< owned.count }

    public var count: Int { range.count }
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
    /// The bytes as an array (copied unless they already are one).
    public var array: [UInt8] { range == storage.indices ? storage : Array(storage[range]) }
    /// The bytes read as Latin-1 text (how Python 2 `str` keys are best shown).
    public var latin1: String { String(decoding: storage[range].map { UInt16($0) }, as: UTF16.self) }
}

/// What a pickle decodes to.
public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case bytes(PickleBytes)
    case string(String)
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(Global)
    case dtype(NumpyDType)
    case array(NumpyArray)

    /// The globals a pickle may name: NumPy's array reconstructors and dtype, and `_codecs.encode`.
    public enum Global: String, CaseIterable {
        case reconstruct = "multiarray._reconstruct"
        case frombuffer = "numeric._frombuffer"
        case ndarray = "numpy.ndarray"
        case dtype = "numpy.dtype"
        case codecsEncode = "_codecs.encode"

        init?(module: String, name: String) {
            switch (module, name) {
            case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): self = .reconstruct
            case ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"): self = .frombuffer
            case ("numpy", "ndarray"): self = .ndarray
            case ("numpy", "dtype"): self = .dtype
            case ("_codecs", "encode"): self = .codecsEncode
            default: return nil
            }
        }
    }

    var depth: Int {
        switch self {
        case .tuple(let t): return t.depth
        case .list(let l): return l.depth
        case .dict(let d): return d.depth
        default: return 0
        }
    }

    /// A short name of the value's kind, for error messages.
    public var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .bytes: return "bytes"
        case .string: return "str"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return "global \(g.rawValue)"
        case .dtype: return "numpy.dtype"
        case .array: return "numpy.ndarray"
        }
    }

    /// Text of a str, or of a Python 2 str (bytes) read as Latin-1.
    public var text: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return b.latin1
        default: return nil
        }
    }
}

/// A tuple's items, with its nesting depth recorded when it is built: a tuple may hold the same
/// tuple twice, that one the same tuple twice and so on (DUP, TUPLE2, a few bytes a level), so
/// a depth found by walking the items would take time exponential in the nesting.
public struct PickleTuple: RandomAccessCollection {
    public let items: [PickleValue]
    let depth: Int

    init(_ items: [PickleValue]) {
        self.items = items
        depth = 1 + (items.map(\.depth).max() ?? 0)
    }

    public var startIndex: Int { items.startIndex }
    public var endIndex: Int { items.endIndex }
    public subscript(i: Int) -> PickleValue { items[i] }
}

/// A list: a reference type because APPEND mutates the list the memo also holds.
public final class PickleList {
    public var items: [PickleValue] = []
    var depth = 1
    /// Set once the list is inside another container: it may no longer grow, which keeps the
    /// recorded depth true (no pickle we read grows a list after nesting it).
    var nested = false
}

/// A dict with keys kept in file order. Keys are ints or strings (Python 2 byte strings as Latin-1).
public final class PickleDict {
    public private(set) var keys: [String] = []
    public private(set) var values: [String: PickleValue] = [:]
    var depth = 1
    /// See `PickleList.nested`.
    var nested = false

    func set(_ key: String, _ value: PickleValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
        depth = max(depth, value.depth + 1)
    }

    public subscript(key: String) -> PickleValue? { values[key] }
}

/// A reduced call whose BUILD state has not arrived yet (`_reconstruct` and `dtype`).
private enum Pending {
    case array
    case dtype(NumpyDType)
}

private struct Decoder {
    let bytes: [UInt8]
    let path: String
    var pos = 0
    var opOffset = 0
    var stack: [StackItem] = []
    var marks: [Int] = []
    var memo: [Int: StackItem] = [:]

    enum StackItem {
        case value(PickleValue)
        case pending(Pending)
    }

    init(bytes: [UInt8], path: String) { self.bytes = bytes; self.path = path }

    func fail(_ message: String) -> DataError {
        DataError(path, "pickle: \(message) (at byte \(opOffset))")
    }

    // MARK: reading primitives, each checked against the bytes that remain

    mutating func take(_ n: Int) throws -> Range<Int> {
        guard n >= 0, n <= bytes.count - pos else {
            throw fail("declares \(n) bytes but only \(bytes.count - pos) remain")
        }
        defer { pos += n }
        return pos ..< pos + n
    }

    mutating func u8() throws -> Int { Int(bytes[try take(1).lowerBound]) }

    mutating func uintLE(_ n: Int) throws -> UInt64 {
        let r = try take(n)
        var v: UInt64 = 0
        for i in r.reversed() { v = v << 8 | UInt64(bytes[i]) }
        return v
    }

    mutating func int32() throws -> Int { Int(Int32(truncatingIfNeeded: try uintLE(4))) }

    /// A length field of `n` bytes, refused when it is negative or exceeds what remains.
    mutating func length(_ n: Int) throws -> Int {
        let v = try uintLE(n)
        guard v <= UInt64(bytes.count - pos) else {
            throw fail("declares a length of \(v) bytes but only \(bytes.count - pos) remain")
        }
        return Int(v)
    }

    mutating func line() throws -> Range<Int> {
        guard let nl = bytes[pos...].firstIndex(of: 0x0a) else { throw fail("text argument has no end of line") }
        defer { pos = nl + 1 }
        return pos ..< nl
    }

    mutating func lineText() throws -> String { String(decoding: bytes[try line()], as: UTF8.self) }

    // MARK: the stack

    mutating func push(_ v: PickleValue) throws {
        guard v.depth <= Pickle.maxDepth else { throw fail("nesting deeper than \(Pickle.maxDepth)") }
        guard stack.count < Pickle.maxStack else { throw fail("stack larger than \(Pickle.maxStack) items") }
        stack.append(.value(v))
    }

    mutating func pushTuple(_ items: [PickleValue]) throws {
        nest(items)
        try push(.tuple(PickleTuple(items)))
    }

    mutating func popItem() throws -> StackItem {
        guard let top = stack.popLast() else { throw fail("stack underflow") }
        if let m = marks.last, stack.count < m { throw fail("pops past a MARK") }
        return top
    }

    mutating func pop() throws -> PickleValue {
        guard case .value(let v) = try popItem() else { throw fail("an object awaiting its BUILD state was used as a value") }
        return v
    }

    mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        let items = stack[m...]
        stack.removeSubrange(m...)
        return try items.map {
            guard case .value(let v) = $0 else { throw fail("an object awaiting its BUILD state was used as a value") }
            return v
        }
    }

    mutating func top() throws -> PickleValue {
        guard case .value(let v)? = stack.last else { throw fail("stack underflow") }
        return v
    }

    mutating func memoPut(_ index: Int) throws {
        guard index >= 0, index < Pickle.maxMemo else { throw fail("memo index \(index) out of range") }
        guard let t = stack.last else { throw fail("memoizes an empty stack") }
        memo[index] = t
    }

    mutating func memoGet(_ index: Int) throws {
        guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
        guard stack.count < Pickle.maxStack else { throw fail("stack larger than \(Pickle.maxStack) items") }
        stack.append(v)
    }

    /// Marks containers placed inside another one as no longer growable. Tuples are not entered:
    /// the containers in a tuple were marked when it was built, and entering shared tuples would
    /// take exponential time (see `PickleTuple`).
    func nest(_ values: [PickleValue]) {
        for v in values {
            switch v {
            case .list(let l): l.nested = true
            case .dict(let d): d.nested = true
            default: break
            }
        }
    }

    mutating func append(_ items: [PickleValue], to target: PickleValue) throws {
        guard case .list(let l) = target else { throw fail("APPEND to a \(target.kind), not a list") }
        guard !l.nested else { throw fail("APPEND to a list that is already inside another container") }
        nest(items)
        // nest has marked the list too if it is among the items (DUP, APPEND): a list inside
        // itself is a reference cycle, never freed, and endless to anything that walks it.
        guard !l.nested else { throw fail("APPEND of a list into itself") }
        for v in items {
            l.items.append(v)
            l.depth = max(l.depth, v.depth + 1)
        }
        guard l.depth <= Pickle.maxDepth else { throw fail("nesting deeper than \(Pickle.maxDepth)") }
    }

    mutating func setItems(_ kv: [PickleValue], in target: PickleValue) throws {
        guard case .dict(let d) = target else { throw fail("SETITEM on a \(target.kind), not a dict") }
        guard !d.nested else { throw fail("SETITEM on a dict that is already inside another container") }
        nest(kv)
        guard !d.nested else { throw fail("SETITEM of a dict into itself") }  // a cycle, as in `append`
        guard kv.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
        for i in stride(from: 0, to: kv.count, by: 2) {
            let key: String
            switch kv[i] {
            case .int(let n): key = String(n)
            case let k: guard let t = k.text else { throw fail("dict key of type \(k.kind) is not supported") }
                key = t
            }
            d.set(key, kv[i + 1])
        }
        guard d.depth <= Pickle.maxDepth else { throw fail("nesting deeper than \(Pickle.maxDepth)") }
    }

    // MARK: globals, REDUCE and BUILD: recognised by name, rebuilt here, never executed

    func global(_ module: String, _ name: String) throws -> PickleValue {
        guard let g = PickleValue.Global(module: module, name: name) else {
            throw fail("global \(quote(module + "." + name)) is not allowed (only NumPy arrays, dtypes and _codecs.encode are)")
        }
        return .global(g)
    }

    mutating func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> StackItem {
        guard case .global(let g) = callable else { throw fail("REDUCE on a \(callable.kind), not an allowed global") }
        guard case .tuple(let a) = args else { throw fail("REDUCE arguments are a \(args.kind), not a tuple") }
        do {
            switch g {
            case .reconstruct:
                guard a.count == 3, case .global(.ndarray) = a[0] else {
                    throw fail("_reconstruct must be called as _reconstruct(numpy.ndarray, shape, typecode)")
                }
                return .pending(.array)
            case .dtype:
                guard a.count >= 1, let code = a[0].text else { throw fail("numpy.dtype needs a type code") }
                return .pending(.dtype(try NumpyDType(code: code)))
            case .codecsEncode:
                guard a.count == 2, case .string(let s) = a[0], let enc = a[1].text,
                      ["latin1", "latin-1", "iso-8859-1", "iso8859-1"].contains(enc.lowercased()) else {
                    throw fail("_codecs.encode is allowed only as encode(str, 'latin1')")
                }
                var out = [UInt8](); out.reserveCapacity(s.unicodeScalars.count)
                for u in s.unicodeScalars {
                    guard u.value < 256 else { throw fail("_codecs.encode: character U+\(String(u.value, radix: 16)) is not Latin-1") }
                    out.append(UInt8(u.value))
                }
                return .value(.bytes(PickleBytes(owned: out)))
            case .frombuffer:
                // _frombuffer(buffer, dtype, shape, order)
                guard a.count == 4, case .bytes(let buf) = a[0], case .dtype(let dt) = a[1],
                      case .tuple(let shp) = a[2], let order = a[3].text else {
                    throw fail("_frombuffer must be called as _frombuffer(bytes, dtype, shape, order)")
                }
                let shape = try shp.map { v -> Int in
                    guard case .int(let n) = v, n >= 0 else { throw fail("array shape must be non-negative ints") }
                    return n
                }
                return .value(.array(try NumpyArray(shape: shape, dtype: dt, fortran: order == "F", data: buf)))
            case .ndarray:
                throw fail("numpy.ndarray may only be passed to _reconstruct, not called")
            }
        } catch let e as NumpyError {
            throw fail(e.message)
        }
    }

    mutating func build(_ target: StackItem, _ state: PickleValue) throws -> PickleValue {
        guard case .pending(let p) = target else { throw fail("BUILD on a value that takes no state") }
        guard case .tuple(let s) = state else { throw fail("BUILD state is a \(state.kind), not a tuple") }
        do {
            switch p {
            case .dtype(var dt):
                // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
                guard s.count >= 2, let order = s[1].text else { throw fail("numpy.dtype state has no byte order") }
                try dt.setByteOrder(order)
                return .dtype(dt)
            case .array:
                // (version, shape, dtype, is_fortran, rawdata)
                guard s.count == 5, case .tuple(let shp) = s[1], case .dtype(let dt) = s[2] else {
                    throw fail("ndarray state must be (version, shape, dtype, is_fortran, data)")
                }
                let shape = try shp.map { v -> Int in
                    guard case .int(let n) = v, n >= 0 else { throw fail("array shape must be non-negative ints") }
                    return n
                }
                let fortran: Bool
                switch s[3] {
                case .bool(let b): fortran = b
                case .int(let n): fortran = n != 0
                default: throw fail("ndarray is_fortran flag is a \(s[3].kind)")
                }
                let data: PickleBytes
                switch s[4] {
                case .bytes(let b): data = b
                case .string(let str):  // Python 3 pickles of Python 2 files at protocol 0 may carry latin-1 text
                    data = PickleBytes(owned: str.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
                case .list: throw fail("object arrays (dtype O) are not supported")
                default: throw fail("ndarray data is a \(s[4].kind), not bytes")
                }
                return .array(try NumpyArray(shape: shape, dtype: dt, fortran: fortran, data: data))
            }
        } catch let e as NumpyError {
            throw fail(e.message)
        }
    }

    // MARK: the opcode loop

    mutating func run() throws -> PickleValue {
        while true {
            opOffset = pos
            guard pos < bytes.count else { throw fail("ends without a STOP opcode (file truncated?)") }
            let op = bytes[pos]; pos += 1
            switch op {
            case 0x80: // PROTO
                let p = try u8()
                guard p <= 5 else { throw fail("pickle protocol \(p) is newer than 5") }
            case 0x95: // FRAME: a length hint only; the bytes follow inline
                let n = try uintLE(8)
                guard n <= UInt64(bytes.count - pos) else { throw fail("FRAME declares \(n) bytes but only \(bytes.count - pos) remain") }
            case 0x2e: // STOP
                guard marks.isEmpty else { throw fail("STOP with an open MARK") }
                return try pop()
            case 0x28: // MARK
                guard marks.count < Pickle.maxDepth else { throw fail("nesting deeper than \(Pickle.maxDepth)") }
                marks.append(stack.count)
            case 0x30: _ = try popItem() // POP
            case 0x31: _ = try popMark() // POP_MARK
            case 0x32: // DUP
                guard let t = stack.last else { throw fail("DUP of an empty stack") }
                stack.append(t)

            // None, bools, numbers
            case 0x4e: try push(.none)  // N
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x49: // I: decimal int, or 00/01 for bools in protocol 0
                let t = try lineText()
                if t == "00" { try push(.bool(false)) } else if t == "01" { try push(.bool(true)) } else {
                    guard let n = Int(t) else { throw fail("INT \(quote(t, limit: 40)) is not a number") }
                    try push(.int(n))
                }
            case 0x4c: // L: decimal long with optional trailing L
                var t = try lineText()
                if t.hasSuffix("L") { t.removeLast() }
                guard let n = Int(t) else { throw fail("LONG \(quote(t, limit: 40)) does not fit in 64 bits") }
                try push(.int(n))
            case 0x4a: try push(.int(try int32()))  // BININT
            case 0x4b: try push(.int(try u8()))  // BININT1
            case 0x4d: try push(.int(Int(try uintLE(2))))  // BININT2
            case 0x8a, 0x8b: // LONG1, LONG4: little-endian two's complement
                let n = op == 0x8a ? try u8() : try length(4)
                guard n <= 8 else { throw fail("integer of \(n) bytes does not fit in 64 bits") }
                let r = try take(n)
                var v: UInt64 = 0
                for i in r.reversed() { v = v << 8 | UInt64(bytes[i]) }
                if n > 0 && n < 8 && bytes[r.upperBound - 1] & 0x80 != 0 { v |= ~0 << UInt64(8 * n) }
                try push(.int(Int(Int64(bitPattern: v))))
            case 0x46: // F
                let t = try lineText()
                guard let x = Double(t) else { throw fail("FLOAT \(quote(t, limit: 40)) is not a number") }
                try push(.float(x))
            case 0x47: // BINFLOAT, big-endian
                try push(.float(Double(bitPattern: try uintLE(8).byteSwapped)))

            // byte strings (Python 2 str, Python 3 bytes and bytearray)
            case 0x53: // STRING: a quoted Python literal
                try push(.bytes(PickleBytes(owned: try unquote(try line()))))
            case 0x54: try push(.bytes(PickleBytes(bytes, try take(try length(4)))))  // BINSTRING
            case 0x55: try push(.bytes(PickleBytes(bytes, try take(try u8()))))  // SHORT_BINSTRING
            case 0x42: try push(.bytes(PickleBytes(bytes, try take(try length(4)))))  // BINBYTES
            case 0x43: try push(.bytes(PickleBytes(bytes, try take(try u8()))))  // SHORT_BINBYTES
            case 0x8e, 0x96: try push(.bytes(PickleBytes(bytes, try take(try length(8)))))  // BINBYTES8, BYTEARRAY8

            // text
            case 0x56: try push(.string(try rawUnicodeEscape(try line())))  // UNICODE
            case 0x58: try push(.string(try utf8(try take(try length(4)))))  // BINUNICODE
            case 0x8c: try push(.string(try utf8(try take(try u8()))))  // SHORT_BINUNICODE
            case 0x8d: try push(.string(try utf8(try take(try length(8)))))  // BINUNICODE8

            // containers
            case 0x29: try push(.tuple(PickleTuple([])))  // EMPTY_TUPLE
            case 0x74: try pushTuple(try popMark())  // TUPLE
            case 0x85: try pushTuple([try pop()])
            case 0x86: let b = try pop(), a = try pop(); try pushTuple([a, b])
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try pushTuple([a, b, c])
            case 0x5d: try push(.list(PickleList()))  // EMPTY_LIST
            case 0x6c: // LIST
                let l = PickleList()
                let items = try popMark()
                try append(items, to: .list(l))
                try push(.list(l))
            case 0x61: let v = try pop(); try append([v], to: try top())  // APPEND
            case 0x65: let items = try popMark(); try append(items, to: try top())  // APPENDS
            case 0x7d: try push(.dict(PickleDict()))  // EMPTY_DICT
            case 0x64: // DICT
                let d = PickleDict()
                try setItems(try popMark(), in: .dict(d))
                try push(.dict(d))
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v], in: try top())  // SETITEM
            case 0x75: let kv = try popMark(); try setItems(kv, in: try top())  // SETITEMS

            // memo
            case 0x70: // PUT
                let t = try lineText()
                guard let i = Int(t) else { throw fail("PUT index \(quote(t, limit: 20)) is not a number") }
                try memoPut(i)
            case 0x71: try memoPut(try u8())  // BINPUT
            case 0x72: try memoPut(Int(try uintLE(4)))  // LONG_BINPUT
            case 0x94: try memoPut(memo.count)  // MEMOIZE
            case 0x67: // GET
                let t = try lineText()
                guard let i = Int(t) else { throw fail("GET index \(quote(t, limit: 20)) is not a number") }
                try memoGet(i)
            case 0x68: try memoGet(try u8())  // BINGET
            case 0x6a: try memoGet(Int(try uintLE(4)))  // LONG_BINGET

            // globals and object construction
            case 0x63: // GLOBAL: module\nname\n
                let module = try lineText(), name = try lineText()
                try push(try global(module, name))
            case 0x93: // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else {
                    throw fail("STACK_GLOBAL needs two str, got \(module.kind) and \(name.kind)")
                }
                try push(try global(m, n))
            case 0x52, 0x81: // REDUCE: callable(*args); NEWOBJ: cls.__new__(cls, *args) — same for our globals
                let args = try pop(), callable = try pop()
                let item = try reduce(callable, args)
                guard stack.count < Pickle.maxStack else { throw fail("stack larger than \(Pickle.maxStack) items") }
                stack.append(item)
            case 0x62: // BUILD
                let state = try pop()
                let target = try popItem()
                try push(try build(target, state))
            default:
                let names: [UInt8: String] = [
                    0x69: "INST", 0x6f: "OBJ", 0x92: "NEWOBJ_EX", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
                    0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET", 0x50: "PERSID", 0x51: "BINPERSID",
                    0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
                ]
                let name = names[op].map { "opcode \($0)" } ?? "unknown opcode"
                throw fail("\(name) (0x\(String(op, radix: 16))) is not supported")
            }
        }
    }

    func utf8(_ r: Range<Int>) throws -> String {
        guard let s = String(validating: bytes[r], as: UTF8.self) else { throw fail("text is not valid UTF-8") }
        return s
    }

    /// Decodes a protocol-0 STRING argument: a Python literal in single or double quotes with
    /// backslash escapes (\\xNN, \\n, octal, ...).
    func unquote(_ r: Range<Int>) throws -> [UInt8] {
        let s = bytes[r]
        guard s.count >= 2, let q = s.first, q == 0x27 || q == 0x22, s.last == q else {
            throw fail("STRING argument is not a quoted literal")
        }
        var out = [UInt8](); out.reserveCapacity(s.count)
        var i = s.startIndex + 1
        let end = s.endIndex - 1
        while i < end {
            let c = s[i]; i += 1
            guard c == 0x5c else { out.append(c); continue }
            guard i < end else { throw fail("STRING literal ends in a backslash") }
            let e = s[i]; i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "v"): out.append(0x0b)
            case UInt8(ascii: "x"):
                guard i + 2 <= end, let v = UInt8(String(decoding: s[i ..< i + 2], as: UTF8.self), radix: 16) else {
                    throw fail("bad \\x escape in STRING literal")
                }
                out.append(v); i += 2
            case UInt8(ascii: "0") ... UInt8(ascii: "7"):
                var v = Int(e - 0x30), n = 1
                while n < 3, i < end, (0x30 ... 0x37).contains(s[i]) { v = v * 8 + Int(s[i] - 0x30); i += 1; n += 1 }
                out.append(UInt8(truncatingIfNeeded: v))
            default: out.append(e)  // \\, \', \" and unknown escapes keep the character
            }
        }
        return out
    }

    /// Decodes a protocol-0 UNICODE argument (raw-unicode-escape: \\uXXXX and \\UXXXXXXXX, else Latin-1).
    func rawUnicodeEscape(_ r: Range<Int>) throws -> String {
        var scalars = String.UnicodeScalarView()
        var i = r.lowerBound
        while i < r.upperBound {
            let c = bytes[i]
            if c == 0x5c, i + 1 < r.upperBound, bytes[i + 1] == 0x75 || bytes[i + 1] == 0x55 {
                let n = bytes[i + 1] == 0x75 ? 4 : 8
                guard i + 2 + n <= r.upperBound,
                      let v = UInt32(String(decoding: bytes[i + 2 ..< i + 2 + n], as: UTF8.self), radix: 16),
                      let u = Unicode.Scalar(v) else { throw fail("bad escape in UNICODE argument") }
                scalars.append(u); i += 2 + n
            } else {
                scalars.append(Unicode.Scalar(c)); i += 1
            }
        }
        return String(scalars)
    }
}
