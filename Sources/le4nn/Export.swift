import ArgumentParser
import Contest
import LE4Data

/// `le4nn export`: dataset images as PNG files plus one contact sheet.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write dataset images as PNG files and one contact sheet.",
        discussion: """
        Each image is written as <index>_<class>.png, and sheet.png shows them all, captioned.

          le4nn export --data ../shared/data --dataset cifar10 --split test \\
              --indices 0..99 --out /tmp/cifar
        """)

    @OptionGroup var data: DataOptions
    @Option(help: "Which split: train or test.") var split: Split = .test
    @Option(help: "Indices to export: a range 0..99 (inclusive), a list 3,5,8, or both: 0..9,42.")
    var indices: IndexList = IndexList(ranges: [0 ... 99])
    @Option(help: "Output folder (created if missing).") var out: String
    @Option(parsing: .unconditional, help: "Upscale factor in the contact sheet.") var scale: Int = 2
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        guard (1 ... 16).contains(scale) else { throw ValidationError("--scale must be 1 to 16") }
        let set = try data.dataset.load(root: data.root, train: split == .train)
        let idx = indices.values
        if let bad = idx.first(where: { $0 >= set.count }) {
            throw ValidationError("index \(bad) is beyond the \(set.count) images of the \(split) split")
        }
        let policy = replace.policy(inputs: data.dataset.files(root: data.root))
        let folders = CreatedFolders()
        try folders.make(out)
        let files = idx.map { out + "/" + imageFileName(index: $0, className: set.classNames[Int(set.labels[$0])]) }
        // Every file is checked before the first is written: a refusal leaves the folder as it was.
        for f in files + [out + "/sheet.png"] { try policy.check(f, writing: .image) }
        var sheet = ContactSheet(channels: set.channels, height: set.height, width: set.width, columns: 10, scale: scale)
        for (i, file) in zip(idx, files) {
            let px = set.pixels[i * set.imageSize ..< (i + 1) * set.imageSize]
            try PNG.write(Bitmap(planar: px, channels: set.channels, height: set.height, width: set.width), to: file, policy: policy)
            sheet.add(px, caption: "\(i) \(set.classNames[Int(set.labels[i])])")
        }
        try PNG.write(sheet.render(), to: out + "/sheet.png", policy: policy)
        folders.kept = true
        print("wrote \(idx.count) PNGs and sheet.png to \(out)")
    }
}

/// The file of one dataset image, `<index>_<class>.png`: `export` and `misclassified` name
/// images alike, so the same image has the same name wherever it was written.
func imageFileName(index: Int, className: String) -> String {
    "\(index)_\(safe(className)).png"
}

/// A file-name-safe version of a class name (Fashion-MNIST has "T-shirt/top").
func safe(_ s: String) -> String {
    String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
}
