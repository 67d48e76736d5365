/// The contest file `le4MNIST_X.dump`: a pickled NumPy array of N images of 28×28.
public enum ContestDump {
    /// Reads the dump. Accepts shapes (N, 784), (N, 28, 28) and (N, 1, 28, 28); u1 as is, integer
    /// types holding 0–255, or floats scaled 0–1 or 0–255 (decided from the largest value).
    public static func read(_ path: String) throws -> ImageSet {
        guard case .array(let a) = try Pickle.load(path) else {
            throw DataError(path, "not a contest dump: the pickle holds no NumPy array")
        }
        let s = a.shape
        let ok = (s.count == 2 && s[1] == 784) || (s.count == 3 && s[1] == 28 && s[2] == 28)
            || (s.count == 4 && s[1] == 1 && s[2] == 28 && s[3] == 28)
        guard ok else {
            throw DataError(path, "images must be 28×28: array shape \(s) is none of (N, 784), (N, 28, 28), (N, 1, 28, 28)")
        }
        var scale = 1.0
        if a.dtype.kind == .float {
            let maxValue = a.doubles().max() ?? 0
            scale = maxValue <= 1.0 ? 255 : 1
        }
        do {
            let px = try a.bytesCOrder(floatScale: scale)
            return ImageSet(count: s[0], channels: 1, height: 28, width: 28, pixels: px, labels: [],
                            classNames: (0 ... 9).map(String.init))
        } catch let e as NumpyError {
            throw DataError(path, e.message)
        }
    }
}
