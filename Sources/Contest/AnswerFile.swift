// The contest's files: the images to answer, the answer file, the submission's name.
import LE4Data

/// Reads images to answer: a contest dump (pickle; `isContestDump`) or an IDX images file.
public func readImagesToAnswer(_ path: String) throws -> (images: ImageSet, isContestDump: Bool) {
    let head = try FileIO.readMaybeGzip(path, limit: 1 << 31).prefix(4)
    if head.first == 0x80 || head.first == 0x63 {  // pickle: PROTO, or GLOBAL at protocol 0/1
        return (try ContestDump.read(path), true)
    }
    let im = try IDX.readImages(path)
    return (ImageSet(count: im.count, channels: 1, height: im.height, width: im.width, pixels: im.pixels, labels: [],
                     classNames: []), false)
}

/// Writes one predicted class per line, nothing else, in input order (atomically, under `policy`).
public func writeAnswers(_ predicted: [Int], to path: String, policy: OutputPolicy) throws {
    try FileIO.writeAtomically(predicted.map { "\($0)\n" }.joined(), to: path, as: .answers, policy: policy)
}

/// Refuses a submission name that is not a plain visible file name: empty (`.txt`, a hidden
/// file), hidden, or naming another folder.
public func checkSubmissionName(_ name: String) throws {
    guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), name.utf8.count <= 200 else {
        throw ValidationErrorText("--name \(quote(name)) is not a submission name: give a plain file name such as final "
            + "(no '/', not starting with '.', at most 200 bytes); it writes submissions/<name>.txt and .json")
    }
}
