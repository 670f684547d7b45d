// `integer` and `number`, with `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`.
//
// Integers are exact (within 15 digits). Numbers with bounds are written without an exponent,
// with at most 15 integer and 15 fraction digits and no trailing fraction zeros; they are exact
// for integer-valued bounds, and non-integer bounds are rounded inwards to integers.

import Grammar
import JSON

/// One end of a numeric range.
struct NumericBound {
    var value: Int
    var inclusive: Bool
}

extension Compiler {
    /// The grammar of the integers (or numbers) `schema` admits.
    mutating func compileNumber(_ schema: JSONValue, integer: Bool, at pointer: String) throws(SchemaCompileError) -> GrammarExpr {
        let lowerRaw = try bound(schema, at: pointer, plain: "minimum", exclusive: "exclusiveMinimum", lower: true)
        let upperRaw = try bound(schema, at: pointer, plain: "maximum", exclusive: "exclusiveMaximum", lower: false)
        if lowerRaw == nil && upperRaw == nil {
            return .ruleRef(integer ? JSONPrimitives.integer : JSONPrimitives.number)
        }
        // Bounds beyond 15 digits are clamped: values that large are not produced.
        let lower = lowerRaw.map { Self.clamped(Self.rounded($0.value, inclusive: $0.inclusive, lower: true, integer: integer)) }
            ?? NumericBound(value: -DigitRanges.limit, inclusive: true)
        let upper = upperRaw.map { Self.clamped(Self.rounded($0.value, inclusive: $0.inclusive, lower: false, integer: integer)) }
            ?? NumericBound(value: DigitRanges.limit, inclusive: true)

        let limit = Double(DigitRanges.limit)
        if let raw = upperRaw, raw.value < -limit { throw Self.beyondLimit(pointer, integer) }
        if let raw = lowerRaw, raw.value > limit { throw Self.beyondLimit(pointer, integer) }

        var alternatives: [GrammarExpr] = []
        if lower.value < 0 {
            // Negative values: their magnitudes run from max(0, -upper) to -lower; zero itself is not negative.
            let nearest = upper.value < 0 ? NumericBound(value: -upper.value, inclusive: upper.inclusive)
                                           : NumericBound(value: 0, inclusive: false)
            let farthest = NumericBound(value: -lower.value, inclusive: lower.inclusive)
            let parts = Self.magnitudes(nearest, farthest, fraction: !integer)
            if !parts.isEmpty {
                alternatives.append(.sequence([.literal("-"), parts.count == 1 ? parts[0] : .choice(parts)]))
            }
        }
        if upper.value > 0 || (upper.value == 0 && upper.inclusive) {
            let from = lower.value >= 0 ? lower : NumericBound(value: 0, inclusive: true)
            alternatives += Self.magnitudes(from, upper, fraction: !integer)
        }
        if alternatives.isEmpty {
            throw .invalidSchema(pointer: pointer, reason: "no \(integer ? "integer" : "number") satisfies the bounds")
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    private static func beyondLimit(_ pointer: String, _ integer: Bool) -> SchemaCompileError {
        .invalidSchema(pointer: pointer, reason: "no \(integer ? "integer" : "number") within 15 digits satisfies the bounds")
    }

    /// Unsigned decimals whose value lies between `low` and `high` (integers, `0 <= low`).
    /// With `fraction`, an optional fraction may follow the integer part; integer bounds have
    /// already been made inclusive when `fraction` is false.
    private static func magnitudes(_ low: NumericBound, _ high: NumericBound, fraction: Bool) -> [GrammarExpr] {
        guard low.value <= high.value else { return [] }
        let frac = GrammarExpr.ruleRef(JSONPrimitives.fraction)
        if !fraction {
            let a = low.inclusive ? low.value : low.value + 1
            let b = high.inclusive ? high.value : high.value - 1
            return a <= b ? [DigitRanges.range(a, b)] : []
        }
        if low.value == high.value {
            return low.inclusive && high.inclusive ? [.literal(String(low.value))] : []
        }
        var parts: [GrammarExpr] = [
            .sequence([.literal(String(low.value)), low.inclusive ? .repeat(frac, min: 0, max: 1) : frac]),
        ]
        // At the 15-digit limit (an absent or clamped upper bound) fractions are allowed too.
        let atLimit = high.value == DigitRanges.limit && high.inclusive
        let middleHigh = atLimit ? high.value : high.value - 1
        if low.value + 1 <= middleHigh {
            parts.append(.sequence([DigitRanges.range(low.value + 1, middleHigh), .repeat(frac, min: 0, max: 1)]))
        }
        if high.inclusive && !atLimit { parts.append(.literal(String(high.value))) }
        return parts
    }

    /// An integral bound as an `Int`, clamped to the 15-digit limit (a bound beyond the limit on
    /// the far side of the range stays beyond it, so the range comes out empty).
    private static func clamped(_ bound: (value: Double, inclusive: Bool)) -> NumericBound {
        let limit = Double(DigitRanges.limit)
        if bound.value > limit { return NumericBound(value: DigitRanges.limit, inclusive: true) }
        if bound.value < -limit { return NumericBound(value: -DigitRanges.limit, inclusive: true) }
        return NumericBound(value: Int(bound.value), inclusive: bound.inclusive)
    }

    /// A bound rounded to an integer: for integers, to the nearest admitted integer (inclusive);
    /// for numbers, inwards when not already integral.
    private static func rounded(_ value: Double, inclusive: Bool, lower: Bool, integer: Bool) -> (value: Double, inclusive: Bool) {
        if integer {
            if lower { return (inclusive ? value.rounded(.up) : value.rounded(.down) + 1, true) }
            return (inclusive ? value.rounded(.down) : value.rounded(.up) - 1, true)
        }
        if value == value.rounded() { return (value, inclusive) }
        return (lower ? value.rounded(.up) : value.rounded(.down), true)
    }

    /// The tighter of `plain` and `exclusive` (a number, or in draft 4 a boolean modifying `plain`).
    private func bound(_ schema: JSONValue, at pointer: String, plain: String, exclusive: String,
                       lower: Bool) throws(SchemaCompileError) -> (value: Double, inclusive: Bool)? {
        var plainValue: Double?
        if let value = schema[plain] {
            guard let d = value.doubleValue, d.isFinite else {
                throw .invalidSchema(pointer: JSONPointer.appending(pointer, plain), reason: "\(plain) must be a number")
            }
            plainValue = d
        }
        var candidates: [(value: Double, inclusive: Bool)] = []
        switch schema[exclusive] {
        case nil: if let p = plainValue { candidates.append((p, true)) }
        case .bool(let flag)?:
            guard let p = plainValue else {
                throw .invalidSchema(pointer: JSONPointer.appending(pointer, exclusive), reason: "boolean \(exclusive) needs \(plain)")
            }
            candidates.append((p, !flag))
        case let value?:
            guard let d = value.doubleValue, d.isFinite else {
                throw .invalidSchema(pointer: JSONPointer.appending(pointer, exclusive), reason: "\(exclusive) must be a number")
            }
            candidates.append((d, false))
            if let p = plainValue { candidates.append((p, true)) }
        }
        return candidates.max { a, b in
            // "Less tight" first: for a lower bound, smaller values (or inclusive at equal values).
            if a.value != b.value { return lower ? a.value < b.value : a.value > b.value }
            return a.inclusive && !b.inclusive
        }
    }
}
