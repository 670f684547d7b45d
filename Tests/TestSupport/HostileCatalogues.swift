// The corpus of hostile tool catalogues: what someone who can write a catalogue file could put in
// it to crash, hang or exhaust the daemon. Small cases are files in Tests/Fixtures/hostile/ (read
// them, they are short); large ones are generated here, so the repository does not carry megabytes.
// Each case says what loading it must give: a clear error containing the given text, or a load that
// finishes (the tests that use the corpus report how long it took).

import Foundation

/// Hostile catalogues and what loading each must give.
public enum HostileCatalogues {
    /// One catalogue of the corpus.
    public struct Case: Sendable, CustomStringConvertible {
        /// A short name (the file name without `.tools.json`).
        public let name: String
        /// The catalogue's JSON text.
        public let text: String
        /// Every string the load error must contain; nil when the catalogue must load.
        public let expectedError: [String]?

        public var description: String { name }

        /// Writes the catalogue into `directory` and returns its path.
        public func write(into directory: String) throws -> String {
            let path = directory + "/" + name + ".tools.json"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    /// Where the committed cases live.
    public static let directory = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/hostile")

    /// The depth bound every schema walk shares (JSON's `NestingLimit.depth`; TestSupport has no
    /// dependencies, so the value is repeated here and the tests check that the two agree).
    public static let depthLimit = 128

    /// Every case: the committed files, then the generated ones.
    public static func all() throws -> [Case] {
        try committed() + generated()
    }

    /// The cases in Tests/Fixtures/hostile/.
    public static func committed() throws -> [Case] {
        let expectations: [(String, [String]?)] = [
            ("self-ref-root", ["/0/function/parameters", "refers back to itself"]),
            ("ref-cycle", ["/0/function/parameters/$defs/", "refers back to itself"]),
            ("self-ref-property", nil),
            ("pathological-pattern", nil),
            ("lookahead-pattern", ["/0/function/parameters/properties/a/pattern", "lookahead assertions are not supported"]),
            ("backreference-pattern", ["/0/function/parameters/properties/a/pattern", "backreferences are not supported"]),
        ]
        return try expectations.map { name, expected in
            let text = try String(contentsOf: directory.appendingPathComponent(name + ".tools.json"), encoding: .utf8)
            return Case(name: name, text: text, expectedError: expected)
        }
    }

    /// The large cases, generated.
    public static func generated() -> [Case] {
        [
            Case(name: "deep-ref-chain", text: refChain(links: 5_000, reversed: false),
                 expectedError: ["/0/function/parameters/$defs/a\(depthLimit - 2)", "nests deeper than \(depthLimit) levels"]),
            Case(name: "deep-ref-chain-reversed", text: refChain(links: 5_000, reversed: true),
                 expectedError: ["/0/function/parameters/$defs/a\(5_000 - depthLimit)", "nests deeper than \(depthLimit) levels"]),
            Case(name: "deep-properties", text: deepProperties(levels: 5_000),
                 expectedError: ["not valid JSON", "nesting deeper than 64"]),
            Case(name: "deep-groups-pattern", text: tool("deep_groups", pattern: String(repeating: "(", count: 20_000) + "a" + String(repeating: ")", count: 20_000)),
                 expectedError: ["/0/function/parameters/properties/text/pattern", "groups nest deeper than \(depthLimit) levels"]),
            Case(name: "huge-repetition-pattern", text: tool("huge_repetition", pattern: "^(a{1000}){1000}$"),
                 expectedError: ["/0/function/parameters/properties/text/pattern", "pattern is too large"]),
            Case(name: "huge-enum", text: hugeEnum(values: 60_000),
                 expectedError: ["catalogue 'huge-enum'", "mask cache budget of 256 MiB"]),
            Case(name: "huge-anyOf", text: hugeAlternatives("anyOf", branches: 20_000),
                 expectedError: ["catalogue 'huge-anyOf'", "mask cache budget of 256 MiB"]),
            Case(name: "huge-oneOf", text: hugeAlternatives("oneOf", branches: 20_000),
                 expectedError: ["/properties/v/oneOf", "oneOf has 20000 branches, more than the 1000"]),
            Case(name: "large-anyOf", text: hugeAlternatives("anyOf", branches: 2_000), expectedError: nil),
            Case(name: "large-oneOf", text: hugeAlternatives("oneOf", branches: 1_000), expectedError: nil),
        ]
    }

    /// A property `x` whose schema is the start of a chain of `links` `$ref`s through `$defs`; with
    /// `reversed`, `$defs` comes first and lists the last link first (so a walk that memoises
    /// finished schemas only ever recurses one link deep, yet the chain applied to a value is as long).
    public static func refChain(links: Int, reversed: Bool) -> String {
        var definitions = (0..<links).map { "\"a\($0)\": {\"$ref\": \"#/$defs/a\($0 + 1)\"}" }
        definitions.append("\"a\(links)\": {\"type\": \"string\"}")
        let properties = "\"properties\": {\"x\": {\"$ref\": \"#/$defs/a0\"}}, \"required\": [\"x\"]"
        guard reversed else {
            return wrap("deep_ref_chain", parameters: "{\"type\": \"object\", \(properties), \"$defs\": {\(definitions.joined(separator: ", "))}}")
        }
        definitions.reverse()
        return wrap("deep_ref_chain", parameters: "{\"type\": \"object\", \"$defs\": {\(definitions.joined(separator: ", "))}, \(properties)}")
    }

    /// Objects nested `levels` deep through `properties`.
    public static func deepProperties(levels: Int) -> String {
        let open = String(repeating: "{\"type\": \"object\", \"properties\": {\"p\": ", count: levels)
        let close = String(repeating: "}}", count: levels)
        return wrap("deep_properties", parameters: "{\"type\": \"object\", \"properties\": {\"p\": \(open){\"type\": \"string\"}\(close)}}")
    }

    /// A string property with an `enum` of `values` distinct values.
    public static func hugeEnum(values: Int) -> String {
        let list = (0..<values).map { "\"value-\($0)\"" }.joined(separator: ",")
        return wrap("huge_enum", parameters: "{\"type\": \"object\", \"properties\": {\"v\": {\"type\": \"string\", \"enum\": [\(list)]}}, \"required\": [\"v\"]}")
    }

    /// A property with `branches` alternatives under `keyword`, each a different constant.
    public static func hugeAlternatives(_ keyword: String, branches: Int) -> String {
        let list = (0..<branches).map { "{\"const\":\($0)}" }
        return wrap("huge_\(keyword)", parameters: "{\"type\": \"object\", \"properties\": {\"v\": {\"\(keyword)\": [\(list.joined(separator: ","))]}}}")
    }

    private static func tool(_ name: String, pattern: String) -> String {
        let escaped = pattern.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return wrap(name, parameters: "{\"type\": \"object\", \"properties\": {\"text\": {\"type\": \"string\", \"pattern\": \"\(escaped)\"}}}")
    }

    private static func wrap(_ name: String, parameters: String) -> String {
        "[{\"type\": \"function\", \"function\": {\"name\": \"\(name)\", \"description\": \"hostile test tool\", \"parameters\": \(parameters)}}]"
    }
}
