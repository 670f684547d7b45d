// JSON Schema patterns are ECMA-262 regular expressions; NSRegularExpression speaks ICU. The two
// agree on the common subset except where it matters for validation, which this rewrites:
//
//   $          ECMA: end of input only. ICU: also before a final line terminator, so
//              "^ORD-[0-9]{4}$" would accept "ORD-1234\n". Rewritten to \z.
//   \d \D      ECMA: ASCII digits. ICU: every Unicode decimal digit. Rewritten to [0-9] / [^0-9].
//   \w \W      ECMA: [A-Za-z0-9_]. ICU: Unicode word characters. Rewritten likewise.
//
// Inside a character class, \d and \w become their ranges; \D and \W are left to ICU.

/// Rewrites ECMA-262 pattern syntax into an ICU pattern with the same meaning.
enum ECMAPattern {
    static func icuPattern(_ source: String) -> String {
        var output = ""
        var inClass = false
        var iterator = source.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\\":
                guard let escaped = iterator.next() else {
                    output.append(character)
                    continue
                }
                output += rewrite(escape: escaped, inClass: inClass)
            case "[" where !inClass:
                inClass = true
                output.append(character)
                // A "]" right after "[" or "[^" is a literal in ICU but closes an empty class in
                // ECMA; both are rare in schemas and left as written.
            case "]" where inClass:
                inClass = false
                output.append(character)
            case "$" where !inClass:
                output += "\\z"
            default:
                output.append(character)
            }
        }
        return output
    }

    private static func rewrite(escape: Character, inClass: Bool) -> String {
        switch (escape, inClass) {
        case ("d", false): return "[0-9]"
        case ("D", false): return "[^0-9]"
        case ("w", false): return "[A-Za-z0-9_]"
        case ("W", false): return "[^A-Za-z0-9_]"
        case ("d", true): return "0-9"
        case ("w", true): return "A-Za-z0-9_"
        default: return "\\" + String(escape)
        }
    }
}
