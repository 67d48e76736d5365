// libFuzzer entry point for the decoders that read untrusted bytes: the pickle decoder (with the
// NumPy array conversions a loader then runs), the IDX parser, the .npy and .npz (zip) parsers and
// gzip inflation.
// Built together with Sources/Data by Fuzz/run.sh; any crash, trap or sanitizer report is a bug.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .array(let a)? = try? Pickle.decode(bytes, path: "fuzz") {
        _ = a.doubles()
        _ = try? a.bytesCOrder(floatScale: 255)
    }
    _ = try? IDX.parse(bytes, path: "fuzz")
    _ = try? NPYArray.parse(bytes, name: "fuzz")
    _ = try? NPZ.decode(bytes, path: "fuzz")
    _ = try? FileIO.gunzip(bytes, path: "fuzz", limit: 1 << 20)
    return 0
}
