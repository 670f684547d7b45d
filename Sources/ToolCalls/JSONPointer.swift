// RFC 6901 JSON pointers, built one reference token at a time, for error messages and
// validation issues ("/2/function/name", "/properties/a~1b").

/// Appends reference tokens to JSON pointers.
enum JSONPointer {
    /// `pointer` extended by the object key `key` (`~` and `/` escaped).
    static func appending(_ pointer: String, _ key: String) -> String {
        var escaped = ""
        for character in key {
            switch character {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.append(character)
            }
        }
        return pointer + "/" + escaped
    }

    /// `pointer` extended by the array index `index`.
    static func appending(_ pointer: String, _ index: Int) -> String {
        pointer + "/" + String(index)
    }

    /// Splits a pointer into unescaped reference tokens, or nil when it is malformed.
    static func tokens(_ pointer: Substring) -> [String]? {
        if pointer.isEmpty { return [] }
        guard pointer.first == "/" else { return nil }
        var tokens: [String] = []
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var iterator = raw.makeIterator()
            while let character = iterator.next() {
                guard character == "~" else { token.append(character); continue }
                switch iterator.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: return nil
                }
            }
            tokens.append(token)
        }
        return tokens
    }

    /// `pointer` for display: the empty pointer (the whole document) reads as "/".
    static func display(_ pointer: String) -> String { pointer.isEmpty ? "/" : pointer }
}
