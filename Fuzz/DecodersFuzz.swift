// libFuzzer entry point for the decoders that read untrusted bytes. One binary holds five targets,
// chosen by LE4NN_FUZZ_TARGET, so that each run spends every input on one decoder and its corpus:
//   pickle  the pickle decoder, then the conversions the loaders run on the arrays and lists it returns
//   idx     the IDX parser
//   npy     the .npy parser
//   npz     the .npz (zip) reader, which inflates deflated members and parses them as .npy
//   gzip    gzip/zlib inflation with a 1 MiB limit
// Built together with Sources/Data by Fuzz/run.sh; any crash, trap or sanitizer report is a bug.
import Foundation

enum FuzzTarget: String, CaseIterable {
    case pickle, idx, npy, npz, gzip

    func run(_ bytes: [UInt8]) {
        switch self {
        case .pickle:
            func convert(_ a: NumpyArray) {
                _ = a.doubles()
                _ = try? a.bytesCOrder(floatScale: 255)
            }
            switch try? Pickle.decode(bytes, path: "fuzz") {
            case .array(let a)?: convert(a)  // a contest dump
            case .dict(let d)?:  // a CIFAR batch: its arrays, and the texts of its lists
                for key in d.keys {
                    switch d[key] {
                    case .array(let a)?: convert(a)
                    case .list(let l)?: _ = l.items.map(\.text)
                    default: break
                    }
                }
            default: break
            }
        case .idx: _ = try? IDX.parse(bytes, path: "fuzz")
        case .npy: _ = try? NPYArray.parse(bytes, name: "fuzz")
        case .npz: _ = try? NPZ.decode(bytes, path: "fuzz")
        case .gzip: _ = try? FileIO.gunzip(bytes, path: "fuzz", limit: 1 << 20)
        }
    }
}

// Set once by LLVMFuzzerInitialize, before libFuzzer runs any input.
nonisolated(unsafe) var target = FuzzTarget.pickle

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    guard let name = ProcessInfo.processInfo.environment["LE4NN_FUZZ_TARGET"], let t = FuzzTarget(rawValue: name) else {
        fputs("set LE4NN_FUZZ_TARGET to one of: \(names)\n", stderr)
        exit(2)
    }
    target = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
