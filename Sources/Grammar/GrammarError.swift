// Errors raised while checking a grammar's IR or parsing GBNF text.

/// Why a grammar could not be built, checked or parsed.
public enum GrammarError: Error, Equatable, CustomStringConvertible {
    /// A rule body refers to `name`, but no rule has that name.
    case undefinedRule(String)
    /// Two rules share the name `name`.
    case duplicateRule(String)
    /// The grammar's start rule `name` is not defined.
    case missingRoot(String)
    /// A repetition whose bounds make no sense (`min < 0` or `max < min`).
    case invalidRepeat(min: Int, max: Int?)
    /// GBNF text is malformed at a 1-based `line` and `column` (counted in Unicode scalars).
    case syntax(line: Int, column: Int, message: String)
    /// GBNF text refers to rule `name` at 1-based `line` and `column`, but never defines it.
    case undefinedReference(String, line: Int, column: Int)

    /// A one-line human-readable explanation; positioned errors start with `line:column: `.
    public var description: String {
        switch self {
        case .undefinedRule(let name):
            return "undefined rule '\(name)'"
        case .duplicateRule(let name):
            return "duplicate rule '\(name)'"
        case .missingRoot(let name):
            return "missing root rule '\(name)'"
        case .invalidRepeat(let min, let max):
            let upper = max.map(String.init) ?? ""
            return "invalid repetition {\(min),\(upper)}"
        case .syntax(let line, let column, let message):
            return "\(line):\(column): \(message)"
        case .undefinedReference(let name, let line, let column):
            return "\(line):\(column): undefined rule '\(name)'"
        }
    }
}
