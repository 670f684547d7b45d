// The queue both merge loops (byte-level BPE and SentencePiece) take their next merge from.

/// An element of a `MergeQueue`: smaller `order` comes out first.
protocol MergeQueueElement {
    /// The sort key; both tokenizers pack (priority << 32) | left position, so ties go to the leftmost pair.
    var order: UInt64 { get }
}

/// A binary min-heap on `order`, kept between words so its storage is reused.
struct MergeQueue<Element: MergeQueueElement> {
    private var heap: [Element] = []

    /// Empties the queue, keeping its storage.
    mutating func removeAll() { heap.removeAll(keepingCapacity: true) }

    /// Adds `element`.
    mutating func push(_ element: Element) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].order < heap[parent].order else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the element with the smallest `order`, or nil when empty.
    mutating func popMin() -> Element? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        guard !heap.isEmpty else { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var smallest = left
            if left + 1 < heap.count && heap[left + 1].order < heap[left].order { smallest = left + 1 }
            guard heap[smallest].order < heap[parent].order else { break }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
        return top
    }
}
