import Augment
import LE4Data

/// The views test-time augmentation averages, with weights summing to 1. Images that may be
/// mirrored (objects, garments) get airbench's six (Jordan 2024): the image and its mirror, 1/4
/// each, and both moved one pixel up-left and one down-right with reflected borders, 1/8 each.
/// Digits get the image and its one-pixel shifts in the four directions, 1/5 each.
func testTimeViews(of set: ImageSet, mirrorable: Bool) -> [(images: ImageSet, weight: Float)] {
    guard mirrorable else {
        return [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)].map { (set.shifted(dx: $0.0, dy: $0.1), 0.2) }
    }
    let mirror = set.mirrored()
    var views: [(images: ImageSet, weight: Float)] = [(set, 0.25), (mirror, 0.25)]
    for d in [-1, 1] {
        views += [(set.shifted(dx: d, dy: d, reflect: true), 0.125), (mirror.shifted(dx: d, dy: d, reflect: true), 0.125)]
    }
    return views
}
