// The shortest text each rule can match, in UTF-8 bytes: used to steer decoding to the
// shortest valid completion when the token budget runs low.

/// The fewest UTF-8 bytes each rule of `grammar` can match, by rule name.
///
/// Computed by fixed-point iteration from "no finite match known" for every rule. A rule that
/// can never finish matching (like `a ::= "x" a`, or one that refers to an undefined rule or
/// needs a class that matches no scalar) is absent from the result. If two rules share a name,
/// the name gets the smaller of their lengths.
public func minimumLengths(of grammar: Grammar) -> [String: Int] {
    var lengths: [String: Int] = [:]
    var changed = true
    while changed {
        changed = false
        for rule in grammar.rules {
            guard let length = minimumLength(of: rule.body, given: lengths) else { continue }
            if lengths[rule.name].map({ length < $0 }) ?? true {
                lengths[rule.name] = length
                changed = true
            }
        }
    }
    return lengths
}

/// The fewest bytes `expr` can match when rules have the `known` lengths (absent: none yet).
private func minimumLength(of expr: GrammarExpr, given known: [String: Int]) -> Int? {
    switch expr {
    case .literal(let text):
        return text.utf8.count
    case .charClass(let charClass):
        return charClass.smallestScalar.map(utf8Width)
    case .ruleRef(let name):
        return known[name]
    case .sequence(let parts):
        var total = 0
        for part in parts {
            guard let length = minimumLength(of: part, given: known) else { return nil }
            total = saturatingAdd(total, length)
        }
        return total
    case .choice(let options):
        return options.compactMap { minimumLength(of: $0, given: known) }.min()
    case .repeat(let item, let min, _):
        guard min > 0 else { return 0 }
        guard let length = minimumLength(of: item, given: known) else { return nil }
        let (product, overflow) = length.multipliedReportingOverflow(by: min)
        return overflow ? Int.max : product
    }
}

private func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

/// Bytes in the UTF-8 encoding of scalar value `value`.
private func utf8Width(_ value: UInt32) -> Int {
    switch value {
    case ..<0x80: return 1
    case ..<0x800: return 2
    case ..<0x1_0000: return 3
    default: return 4
    }
}

extension CharClass {
    /// The smallest Unicode scalar value (surrogates excluded) in the class, or nil if none is.
    public var smallestScalar: UInt32? {
        negated ? smallestOutsideRanges() : ranges.compactMap(smallestScalar(in:)).min()
    }

    /// The smallest valid scalar inside `range`.
    private func smallestScalar(in range: ClosedRange<UInt32>) -> UInt32? {
        var value = range.lowerBound
        if (0xD800...0xDFFF).contains(value) { value = 0xE000 }
        return value <= min(range.upperBound, 0x10FFFF) ? value : nil
    }

    /// The smallest valid scalar in no range: step past every range (and the surrogates)
    /// that contains the candidate until none does.
    private func smallestOutsideRanges() -> UInt32? {
        var candidate: UInt32 = 0
        var moved = true
        while moved {
            moved = false
            if (0xD800...0xDFFF).contains(candidate) {
                candidate = 0xE000
                moved = true
            }
            for range in ranges where range.contains(candidate) {
                guard range.upperBound < 0x10FFFF else { return nil }
                candidate = range.upperBound + 1
                moved = true
            }
        }
        return candidate
    }
}
