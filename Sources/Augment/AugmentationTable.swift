/// Every augmentation `--augment` knows, once: in application order, each with its fixed random
/// stream. Adding an augmentation is one file conforming to ``ImageAugmentation`` or
/// ``BatchAugmentation`` and one line here.
enum AugmentationTable {
    /// One line of the table.
    struct Entry: Sendable {
        /// The augmentation.
        let type: any Augmentation.Type
        /// Index k of its stream `[epoch, step, image, k]`. Every seeded run depends on these:
        /// never renumber one; a new augmentation takes an unused number.
        let stream: UInt64

        init(_ type: any Augmentation.Type, stream: UInt64) {
            self.type = type
            self.stream = stream
        }

        var name: String { type.name }
        var perBatch: Bool { type is any BatchAugmentation.Type }
    }

    /// The application order: pen and geometry first (on the clean image), then crop and flip,
    /// then the occluders, then the per-batch ones. Selections without the newer entries (ids 5
    /// and up) therefore run exactly as before those were added.
    static let entries: [Entry] = [
        Entry(StrokeWidth.self, stream: 7),
        Entry(RandomAffine.self, stream: 5),
        Entry(ElasticDistortion.self, stream: 6),
        Entry(RandomCrop.self, stream: 0),
        Entry(HorizontalFlip.self, stream: 1),
        Entry(RandomErasing.self, stream: 2),
        Entry(Cutout.self, stream: 3),
        Entry(Mixup.self, stream: 4),
    ]

    /// The entry named `name`, if any.
    static func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}
