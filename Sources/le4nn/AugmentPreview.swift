import ArgumentParser
import Contest
import Augment
import LE4Data
import Net

/// `le4nn augment-preview`: see what an augmentation set does before training with it.
struct AugmentPreview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment-preview",
        abstract: "Write a contact sheet: a row of training images, then rows of their augmented versions.",
        discussion: """
        Each further row is another draw (another step), so the sheet shows the spread of the set.

          le4nn augment-preview --data ../shared/data --dataset mnist \\
              --augment crop,erasing,cutout,mixup --out preview.png
          le4nn augment-preview --dataset fashion \\
              --augment crop:pad=3,cutout:size=10 --out preview.png
        """)

    @OptionGroup var data: DataOptions
    @Option(help: "Augmentation set (as for train), e.g. crop,erasing,cutout,mixup.") var augment: String
    @Option(parsing: .unconditional, help: "Images per row.") var count: Int = 10
    @Option(parsing: .unconditional, help: "Rows of augmented versions.") var rows: Int = 4
    @Option(parsing: .unconditional, help: "Seed.") var seed: UInt64 = 1
    @Option(help: "PNG file to write (its folder is created if missing).") var out: String
    @OptionGroup var replace: ReplaceOptions

    func run() throws {
        let policy = replace.policy(inputs: data.dataset.files(root: data.root))
        try policy.check(out, writing: .image)
        guard (1 ... 100).contains(count), (1 ... 20).contains(rows) else { throw ValidationError("--count must be 1 to 100 and --rows 1 to 20") }
        let set = try data.dataset.load(root: data.root, train: true).subset(Array(0 ..< count))
        let config = try AugmentConfig(parsing: augment, for: data.dataset)
        var batches = Minibatches(set, augment: config, seed: seed)
        var sheet = ContactSheet(channels: set.channels, height: set.height, width: set.width, columns: count, scale: 2)
        for i in 0 ..< count { sheet.add(set.pixels[i * set.imageSize ..< (i + 1) * set.imageSize], caption: "\(set.classNames[Int(set.labels[i])])") }
        let classes = set.classNames.count
        for row in 0 ..< rows {
            let (x, t) = batches.make(0 ..< count, epoch: 0, step: row)
            let bytes = Network.pixels(x.data)
            for i in 0 ..< count {
                // Caption: the strongest target class and its weight (below 100% under mixup).
                let row = t[i * classes ..< (i + 1) * classes], top = argmax(row)
                sheet.add(bytes[i * set.imageSize ..< (i + 1) * set.imageSize],
                          caption: config.usesMixup ? "\(top) \(Int((100 * row[row.startIndex + top]).rounded()))%" : "")
            }
        }
        let folders = CreatedFolders()
        try folders.makeParent(of: out)
        try PNG.write(sheet.render(), to: out, policy: policy)
        folders.kept = true
        print("wrote \(out): \(count) originals and \(rows) rows of \(config)")
    }
}
