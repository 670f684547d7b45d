// The content hash of a tool catalogue: what an adapter records about the catalogue it was trained on,
// so that `serve`, `eval` and reload can tell when it is paired with another one.
//
// What is hashed. Each tool is reduced to what the router uses of it — the object
// `{"description": D, "name": N, "parameters": P}` as `ToolCatalogue` read it (a missing description is
// "", missing parameters are the empty object schema) — and written as canonical text: no whitespace,
// the project's JSON writer (strings escaped the same way every time, numbers as written), and the
// members of every object sorted by the UTF-8 bytes of their keys, except one kind of object: the
// value of a schema's `properties`, whose members keep the catalogue's order. A tool's hash is the
// SHA-256 of its text; the catalogue's hash is the SHA-256 of the JSON array of the tools' texts, in
// catalogue order.
//
// Why these choices. Whitespace, indentation and the order of keywords in a schema change nothing
// the model sees or the grammar allows, so they must not break a pairing. Everything that does is in
// the hash: a tool's name and description (both in the prompt), any schema keyword or value (the
// grammar and the validator), the order of `properties` (it is the order the prompt lists the
// arguments in and the order the grammar makes the model write them, so the adapter learnt it),
// and the order of the tools (the prompt lists them in that order). Members a catalogue entry may
// carry that the router ignores (such as `"strict"`) are not hashed. Numbers are hashed as written:
// `10` and `10.0` differ, which errs on the side of calling a pairing changed. A data value that
// happens to have a `properties` key (inside an `enum` or `const`) also keeps its order: the same
// direction of error, and rare.

import Foundation
import JSON

/// The SHA-256 of one tool's canonical text.
public struct ToolFingerprint: Sendable, Equatable {
    /// The tool's name.
    public let name: String
    /// 64 lowercase hex digits.
    public let sha256: String

    /// A tool's recorded hash.
    public init(name: String, sha256: String) {
        self.name = name
        self.sha256 = sha256
    }
}

/// The content hash of a whole catalogue and of each of its tools (see the file's header for what
/// exactly is hashed).
public struct CatalogueFingerprint: Sendable, Equatable {
    /// SHA-256 of the whole catalogue, 64 lowercase hex digits.
    public let sha256: String
    /// Each tool's hash, in catalogue order.
    public let tools: [ToolFingerprint]

    /// A fingerprint as recorded (no check that `sha256` matches the tools; a record is what it says).
    public init(sha256: String, tools: [ToolFingerprint]) {
        self.sha256 = sha256
        self.tools = tools
    }

    /// The fingerprint of a loaded catalogue.
    public init(catalogue: ToolCatalogue) {
        let texts = catalogue.tools.map(Self.canonicalText(of:))
        tools = zip(catalogue.tools, texts).map { tool, text in ToolFingerprint(name: tool.name, sha256: Self.hex(text)) }
        sha256 = Self.hex("[" + texts.joined(separator: ",") + "]")
    }

    /// The canonical text of one tool, the bytes its hash is taken of.
    public static func canonicalText(of tool: ToolDefinition) -> String {
        JSONWriter.compact(canonical(.object([("description", .string(tool.description)), ("name", .string(tool.name)),
                                              ("parameters", tool.parameters)]), keepOrder: false))
    }

    /// `value` with the members of every object sorted by key, except those of an object found under a
    /// `properties` key, which keep their order (their values are sorted again: they are schemas).
    /// Catalogues are at most `NestingLimit.depth` deep when loaded, so the recursion is bounded.
    static func canonical(_ value: JSONValue, keepOrder: Bool) -> JSONValue {
        switch value {
        case .array(let items):
            return .array(items.map { canonical($0, keepOrder: false) })
        case .object(let members):
            let ordered = keepOrder ? members : members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(ordered.map { member in
                (key: member.key, value: canonical(member.value, keepOrder: !keepOrder && member.key == "properties"))
            })
        default:
            return value
        }
    }

    /// SHA-256 of `text`'s UTF-8 bytes as 64 lowercase hex digits.
    static func hex(_ text: String) -> String { ContentHash.sha256Hex(Array(text.utf8)) }

    /// Whether `text` is 64 lowercase hex digits, the form every hash here takes.
    public static func isHexDigest(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

extension CatalogueFingerprint {
    /// How a catalogue differs from the one an adapter was trained on, or nil when it is the same.
    /// `self` is the catalogue being served; `trained` is the adapter's record.
    public func mismatch(trained: CatalogueFingerprint) -> CatalogueMismatch? {
        guard sha256 != trained.sha256 else { return nil }
        let recorded = Dictionary(trained.tools.map { ($0.name, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        let current = Set(tools.map(\.name))
        let added = tools.map(\.name).filter { recorded[$0] == nil }
        let missing = trained.tools.map(\.name).filter { !current.contains($0) }
        let changed = tools.filter { tool in recorded[tool.name].map { $0 != tool.sha256 } ?? false }.map(\.name)
        return CatalogueMismatch(added: added, missing: missing, changed: changed,
                                 servingOrder: tools.map(\.name), trainedOrder: trained.tools.map(\.name))
    }
}

/// Which tools differ between the catalogue served and the one an adapter was trained on.
public struct CatalogueMismatch: Sendable, Equatable, CustomStringConvertible {
    /// Tools the catalogue has and the adapter was not trained on.
    public let added: [String]
    /// Tools the adapter was trained on that the catalogue no longer has.
    public let missing: [String]
    /// Tools in both whose name, description or schema changed.
    public let changed: [String]
    /// The catalogue's tool names, in order.
    public let servingOrder: [String]
    /// The recorded tool names, in the record's order.
    public let trainedOrder: [String]

    /// The differences, tool by tool, e.g. `added in the catalogue: a, b; schema or description changed: c`.
    public var description: String {
        var parts: [String] = []
        if !added.isEmpty { parts.append("added in the catalogue: \(added.joined(separator: ", "))") }
        if !missing.isEmpty { parts.append("missing from the catalogue: \(missing.joined(separator: ", "))") }
        if !changed.isEmpty { parts.append("schema or description changed: \(changed.joined(separator: ", "))") }
        if !parts.isEmpty { return parts.joined(separator: "; ") }
        if servingOrder != trainedOrder {
            return "the same tools, listed in another order (the prompt lists them in catalogue order): "
                + "trained on \(trainedOrder.joined(separator: ", ")); the catalogue has \(servingOrder.joined(separator: ", "))"
        }
        return "every tool matches its record, but the catalogue hash does not (the record's \"sha256\" was changed by hand?)"
    }
}
