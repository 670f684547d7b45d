// Grammars over decimal digit strings that accept exactly the integers of a range: no leading
// zeros, one alternative per digit count, and per count the classic split into a low edge,
// a free middle and a high edge.

import Grammar

enum DigitRanges {
    /// Largest magnitude of an integer part the compiler produces (15 digits).
    static let limit = 999_999_999_999_999

    /// Decimal strings (no sign, no leading zeros) of exactly the integers in `low...high`
    /// (both non-negative, `low <= high`).
    static func range(_ low: Int, _ high: Int) -> GrammarExpr {
        var alternatives: [GrammarExpr] = []
        // Digit counts whose every value is in range, as one `[1-9] [0-9]{m,n}` run.
        var fullRun: (first: Int, last: Int)?
        func flushRun() {
            guard let run = fullRun else { return }
            let tail = GrammarExpr.repeat(JSONPrimitives.digit, min: run.first - 1, max: run.last - 1)
            alternatives.append(run.last == 1 ? JSONPrimitives.nonZeroDigit : .sequence([JSONPrimitives.nonZeroDigit, tail]))
            fullRun = nil
        }
        var lowValue = low
        if low == 0 {
            alternatives.append(.literal("0"))
            if high == 0 { return .literal("0") }
            lowValue = 1
        }
        guard lowValue <= high else { return alternatives.count == 1 ? alternatives[0] : .choice(alternatives) }
        for count in digits(of: lowValue).count...digits(of: high).count {
            let smallest = power(10, count - 1)
            let largest = power(10, count) - 1
            let a = max(lowValue, smallest)
            let b = min(high, largest)
            if a == smallest && b == largest {
                fullRun = (fullRun?.first ?? count, count)
            } else if a <= b {
                flushRun()
                alternatives.append(sameLength(digits(of: a)[...], digits(of: b)[...]))
            }
        }
        flushRun()
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// Digit strings of `a.count` digits between `a` and `b` inclusive (equal lengths, `a <= b`).
    private static func sameLength(_ a: ArraySlice<Int>, _ b: ArraySlice<Int>) -> GrammarExpr {
        guard let a0 = a.first, let b0 = b.first else { return .sequence([]) }
        if a == b { return .literal(a.map(String.init).joined()) }
        let aRest = a.dropFirst()
        let bRest = b.dropFirst()
        if a0 == b0 { return join(.literal(String(a0)), sameLength(aRest, bRest)) }
        let restCount = aRest.count
        let lowIsFull = aRest.allSatisfy { $0 == 0 }
        let highIsFull = bRest.allSatisfy { $0 == 9 }
        var alternatives: [GrammarExpr] = []
        if !lowIsFull {
            alternatives.append(join(.literal(String(a0)), sameLength(aRest, Array(repeating: 9, count: restCount)[...])))
        }
        let middleLow = lowIsFull ? a0 : a0 + 1
        let middleHigh = highIsFull ? b0 : b0 - 1
        if middleLow <= middleHigh {
            let lead = GrammarExpr.charClass(CharClass(ranges: [UInt32(0x30 + middleLow)...UInt32(0x30 + middleHigh)]))
            switch restCount {
            case 0: alternatives.append(lead)
            case 1: alternatives.append(.sequence([lead, JSONPrimitives.digit]))
            default: alternatives.append(.sequence([lead, .repeat(JSONPrimitives.digit, min: restCount, max: restCount)]))
            }
        }
        if !highIsFull {
            alternatives.append(join(.literal(String(b0)), sameLength(Array(repeating: 0, count: restCount)[...], bRest)))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// `first` then `rest`, flattening a nested sequence.
    private static func join(_ first: GrammarExpr, _ rest: GrammarExpr) -> GrammarExpr {
        simplified(.sequence([first, rest]))
    }

    /// Decimal digits of a non-negative integer, most significant first.
    static func digits(of value: Int) -> [Int] {
        String(value).unicodeScalars.map { Int($0.value) - 0x30 }
    }

    private static func power(_ base: Int, _ exponent: Int) -> Int {
        var result = 1
        for _ in 0..<exponent { result *= base }
        return result
    }
}
