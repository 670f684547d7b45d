// `pattern` matching for the validator in time linear in the text: the pattern is parsed by the
// same regex parser the grammar compiler uses (so both accept exactly the same syntax and give the
// same classes their meaning) and compiled to a Thompson automaton, which is run over the text with
// every live state advanced at once (a Pike VM without captures). No backtracking, so a catalogue
// pattern such as `^(a+)+$` cannot make the worker spin: each character costs at most one visit per
// instruction.
//
// Semantics (JSON Schema uses ECMA-262 without flags): the pattern may match anywhere in the string
// (unanchored search); `^` and `$` match only at the start and end of the string (`$` not before a
// final newline); `.` is any character but a line terminator; `\d`, `\w`, `\s` are ECMA's sets.
// Characters are Unicode scalars, as in the grammar compiler (ECMA without `u` would see UTF-16 code
// units; the two differ only for `.` and negated classes on characters beyond the BMP).

/// Why a pattern could not be compiled for matching.
public struct PatternError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong with the pattern, in words.
    public let reason: String

    /// An error with the given reason.
    public init(reason: String) { self.reason = reason }

    /// The reason, as the error's text.
    public var description: String { reason }
}

/// A compiled `pattern`, matched in linear time.
public struct PatternMatcher: Sendable {
    /// The pattern as written.
    public let source: String
    private let program: [Instruction]
    private let sets: [ScalarSet]

    /// Programs longer than this are refused (bounded repetitions are unrolled, so `(a{1000}){1000}`
    /// would otherwise take a million instructions, each one visited per character).
    public static let maxInstructions = 20_000

    /// One step of the automaton.
    enum Instruction: Equatable, Sendable {
        /// Consume one character from `sets[index]`.
        case set(Int)
        /// Continue at both targets.
        case split(Int, Int)
        /// Continue at the target.
        case jump(Int)
        /// Only at the start of the text.
        case assertStart
        /// Only at the end of the text.
        case assertEnd
        /// The pattern has matched.
        case match
    }

    /// Compiles `pattern`. Throws for syntax the regex parser rejects (lookaround, backreferences,
    /// word boundaries, Unicode property escapes, malformed classes or quantifiers, groups nested
    /// deeper than `NestingLimit.depth`) and for patterns too large to match efficiently.
    public init(_ pattern: String) throws(PatternError) {
        let tree: RegexNode
        do { tree = try RegexParser.parse(pattern) } catch { throw PatternError(reason: error.reason) }
        var builder = ProgramBuilder()
        try builder.emit(tree)
        try builder.append(.match)
        source = pattern
        program = builder.program
        sets = builder.sets
    }

    /// Whether the pattern matches somewhere in `text`.
    public func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        // Threads are the `.set` instructions waiting for the next character; `stamp` marks which
        // instructions the closure already visited at the current position.
        var stamp = [Int](repeating: -1, count: program.count)
        var current: [Int] = []
        var next: [Int] = []
        var pending: [Int] = []
        for position in 0...scalars.count {
            // Unanchored search: a new attempt starts at every position.
            if close(from: 0, at: position, length: scalars.count, stamp: &stamp, threads: &current, pending: &pending) { return true }
            if position == scalars.count { break }
            let scalar = scalars[position].value
            next.removeAll(keepingCapacity: true)
            for pc in current {
                guard case .set(let index) = program[pc], sets[index].contains(scalar) else { continue }
                if close(from: pc + 1, at: position + 1, length: scalars.count, stamp: &stamp, threads: &next, pending: &pending) {
                    return true
                }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Follows every non-consuming instruction from `start` at `position`, adding the `.set`
    /// instructions reached to `threads`. True when `.match` is reached.
    private func close(from start: Int, at position: Int, length: Int, stamp: inout [Int], threads: inout [Int],
                       pending: inout [Int]) -> Bool {
        pending.removeAll(keepingCapacity: true)
        pending.append(start)
        while let pc = pending.popLast() {
            guard stamp[pc] != position else { continue }
            stamp[pc] = position
            switch program[pc] {
            case .set: threads.append(pc)
            case .split(let first, let second):
                pending.append(second)
                pending.append(first)
            case .jump(let target): pending.append(target)
            case .assertStart: if position == 0 { pending.append(pc + 1) }
            case .assertEnd: if position == length { pending.append(pc + 1) }
            case .match: return true
            }
        }
        return false
    }
}

/// Lays out the automaton for a parsed pattern.
private struct ProgramBuilder {
    var program: [PatternMatcher.Instruction] = []
    var sets: [ScalarSet] = []
    private var setIndex: [ScalarSet: Int] = [:]

    @discardableResult
    mutating func append(_ instruction: PatternMatcher.Instruction) throws(PatternError) -> Int {
        guard program.count < PatternMatcher.maxInstructions else {
            throw PatternError(reason: "pattern is too large (more than \(PatternMatcher.maxInstructions) automaton steps once its repetitions are counted out)")
        }
        program.append(instruction)
        return program.count - 1
    }

    /// Emits `node` (recursion follows the parsed tree, whose depth the parser bounds).
    mutating func emit(_ node: RegexNode) throws(PatternError) {
        switch node {
        case .set(let set):
            let index: Int
            if let known = setIndex[set] { index = known } else {
                index = sets.count
                sets.append(set)
                setIndex[set] = index
            }
            try append(.set(index))
        case .sequence(let parts):
            for part in parts { try emit(part) }
        case .alternation(let branches):
            var exits: [Int] = []
            for (offset, branch) in branches.enumerated() {
                guard offset < branches.count - 1 else { try emit(branch); break }
                let split = try append(.split(0, 0))
                try emit(branch)
                exits.append(try append(.jump(0)))
                program[split] = .split(split + 1, program.count)
            }
            for exit in exits { program[exit] = .jump(program.count) }
        case .repetition(let inner, let min, let max):
            for _ in 0..<min { try emit(inner) }
            if let max {
                // Each optional copy may be skipped, which skips all the later ones too.
                var skips: [Int] = []
                for _ in min..<max {
                    skips.append(try append(.split(0, 0)))
                    try emit(inner)
                }
                for skip in skips { program[skip] = .split(skip + 1, program.count) }
            } else {
                let loop = try append(.split(0, 0))
                try emit(inner)
                try append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        case .start: try append(.assertStart)
        case .end: try append(.assertEnd)
        }
    }
}
