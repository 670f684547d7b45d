// The reference recognizer: an Earley parser over Unicode scalars. It is meant to be plainly
// correct rather than fast; faster matchers elsewhere are tested against it.
//
// It handles left recursion, empty rules and every repeat form, because the grammar is first
// flattened to plain productions (see FlatGrammar). Nullable nonterminals are handled the
// Aycock–Horspool way: predicting a nullable nonterminal also steps over it at once.

/// Decides whether text matches a grammar's root rule, or could be extended to match it.
public struct GrammarRecognizer: Sendable {
    private let flat: FlatGrammar

    /// Prepares `grammar` for recognition.
    ///
    /// - Throws: `GrammarError.undefinedRule`, `.duplicateRule`, `.missingRoot` or `.invalidRepeat`
    ///   when the grammar is malformed.
    public init(_ grammar: Grammar) throws(GrammarError) {
        flat = try FlatGrammar(grammar)
    }

    /// True when the whole of `text` matches the root rule.
    public func matches(_ text: String) -> Bool {
        guard let finalSet = run(Array(text.unicodeScalars)) else { return false }
        return finalSet.items.contains { item in
            flat.lhs[item.production] == flat.start
                && item.origin == 0
                && item.dot == flat.rhs[item.production].count
        }
    }

    /// True when `text` is a prefix of some text that matches the root rule (a matching text
    /// counts as its own prefix). False for every text when the grammar matches nothing.
    public func isPrefix(_ text: String) -> Bool {
        guard let finalSet = run(Array(text.unicodeScalars)) else { return false }
        // Unproductive productions were pruned, so every item left can still be completed.
        return !finalSet.items.isEmpty
    }

    // MARK: Earley

    /// A dotted production that began at `origin`.
    private struct Item: Hashable {
        var production: Int
        var dot: Int
        var origin: Int
    }

    /// The items at one position, with those waiting on each nonterminal indexed.
    private struct ItemSet {
        var items: [Item] = []
        var seen: Set<Item> = []
        var waiting: [Int: [Item]] = [:]

        mutating func insert(_ item: Item) {
            if seen.insert(item).inserted { items.append(item) }
        }
    }

    /// Runs the chart over `scalars`; the last set, or nil when some set ran empty.
    private func run(_ scalars: [Unicode.Scalar]) -> ItemSet? {
        var sets = [ItemSet](repeating: ItemSet(), count: scalars.count + 1)
        for production in flat.productionsOf[flat.start] {
            sets[0].insert(Item(production: production, dot: 0, origin: 0))
        }
        for position in 0...scalars.count {
            if sets[position].items.isEmpty { return nil }
            let next: UInt32? = position < scalars.count ? scalars[position].value : nil
            var index = 0
            while index < sets[position].items.count {
                let item = sets[position].items[index]
                index += 1
                let symbols = flat.rhs[item.production]
                guard item.dot < symbols.count else {
                    complete(item, at: position, in: &sets)
                    continue
                }
                let advanced = Item(production: item.production, dot: item.dot + 1, origin: item.origin)
                switch symbols[item.dot] {
                case .terminal(let terminal):
                    if let next, flat.classes[terminal].contains(next) {
                        sets[position + 1].insert(advanced)
                    }
                case .nonterminal(let nonterminal):
                    sets[position].waiting[nonterminal, default: []].append(item)
                    for production in flat.productionsOf[nonterminal] {
                        sets[position].insert(Item(production: production, dot: 0, origin: position))
                    }
                    if flat.nullable[nonterminal] { sets[position].insert(advanced) }
                }
            }
        }
        return sets[scalars.count]
    }

    /// Advances every item at `item.origin` that was waiting for the nonterminal `item` finished.
    private func complete(_ item: Item, at position: Int, in sets: inout [ItemSet]) {
        let nonterminal = flat.lhs[item.production]
        let parents = sets[item.origin].waiting[nonterminal] ?? []
        for parent in parents {
            sets[position].insert(Item(production: parent.production, dot: parent.dot + 1, origin: parent.origin))
        }
    }
}
