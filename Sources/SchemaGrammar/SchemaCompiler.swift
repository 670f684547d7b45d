// The public face of the JSON Schema → grammar compiler.
//
// The grammar describes the product's canonical output form: compact JSON (no whitespace outside
// strings) with object members in the schema's `properties` order. See each file of this target
// for one family of keywords; `SchemaCompiler+Dispatch.swift` is where a schema is taken apart.

import Grammar
import JSON

/// Limits applied where a schema leaves a size unbounded, so that decoding always terminates.
public struct SchemaCompilerOptions: Sendable {
    /// Longest string (in characters) when a string schema has no `maxLength`.
    public var defaultMaxStringLength = 256
    /// Most array items when an array schema has no `maxItems`.
    public var defaultMaxItems = 64
    /// Most members of a free-form map (a schema with `additionalProperties` as a schema) when it has no `maxProperties`.
    public var defaultMaxProperties = 32

    /// The default limits (256 characters, 64 items, 32 properties).
    public init() {}
}

/// Why a schema could not be compiled. Every case names the place in the schema as an RFC 6901 JSON pointer.
public enum SchemaCompileError: Error, Equatable, CustomStringConvertible {
    /// A keyword the compiler does not implement (it fails closed instead of ignoring it).
    case unsupportedKeyword(keyword: String, pointer: String)
    /// The schema is malformed or admits no value the compiler can produce.
    case invalidSchema(pointer: String, reason: String)
    /// A `$ref` that does not point inside this document.
    case unresolvedReference(ref: String, pointer: String)
    /// A `pattern` (or built-in format) that does not parse, or uses an unsupported regex feature.
    case invalidPattern(pointer: String, reason: String)

    /// A one-line explanation naming the keyword or pointer.
    public var description: String {
        switch self {
        case let .unsupportedKeyword(keyword, pointer):
            return "unsupported JSON Schema keyword '\(keyword)' at \(pointer.isEmpty ? "#" : pointer)"
        case let .invalidSchema(pointer, reason):
            return "invalid schema at \(pointer.isEmpty ? "#" : pointer): \(reason)"
        case let .unresolvedReference(ref, pointer):
            return "unresolved $ref '\(ref)' at \(pointer.isEmpty ? "#" : pointer)"
        case let .invalidPattern(pointer, reason):
            return "invalid pattern at \(pointer.isEmpty ? "#" : pointer): \(reason)"
        }
    }
}

/// Compiles a JSON Schema into a `Grammar` whose language is the canonical compact JSON of the
/// schema's instances.
///
/// Output form: no whitespace outside strings; object members in `properties` order, required
/// ones always present, optional ones possibly absent. Rule names derive from schema paths
/// (`root`, `root-order-id`, `defs-node`) and are unique; the same schema always gives the
/// byte-identical grammar. The building blocks come from `grammars/json-primitives.gbnf`
/// (`JSONPrimitives.text`).
///
/// Semantics chosen for this product (documented approximations):
/// - `additionalProperties` absent or `true` is treated as `false`: only listed properties.
///   A schema value admits extra members after the listed ones, keyed (in canonical spelling)
///   by names other than the listed ones; extra keys are not made unique among themselves.
///   `minProperties`/`maxProperties` are supported only on such maps without `properties`.
/// - Strings: length counts decoded code points; a surrogate pair written as two `\u` escapes
///   counts as two, and lone surrogate escapes are not excluded. Pattern-constrained text and
///   `enum`/`const` strings use canonical escapes only (`\"`, `\\`, `\n`…, `\u00xx`).
/// - `enum`/`const` values are produced as given; other keywords beside them are not re-checked.
/// - `format: date` admits February 29 in every year. `email` and `uri` are practical subsets.
/// - `pattern`/`format` with `minLength`/`maxLength`: unbounded repetitions share the length
///   budget and repetition minima are raised to reach `minLength`. This is sound but may exclude
///   some valid strings (for example, minLength is met by one repetition, not spread over
///   several); when the result cannot be shown to fit, compilation fails naming the length
///   keyword. A pattern without `maxLength` may exceed the default length, but stays bounded.
/// - Counts above 100 000 (`maxLength`, `maxItems`, …) are lowered to 100 000.
/// - `oneOf` compiles only when its branches are provably disjoint (types, consts, or a required
///   property's const); otherwise it is an `invalidSchema` error, never a silent `anyOf`.
/// - A schema without `type` but with type-specific keywords (`properties`, `minLength`, …)
///   admits only the types those keywords imply; `{}` and `true` admit any value, written with
///   the primitives file's fixed bounds (256 characters, 64 items, 32 members per level).
/// - Arrays: after `prefixItems`, absent `items` admits no further items; `items` as an array
///   (draft 7 tuples) is unsupported.
/// - Numbers: at most 15 integer digits and 15 fraction digits, canonical form (no trailing
///   fraction zeros, no `-0`, lower-case exponent without `+`); bounded numbers have no exponent
///   and non-integer bounds are rounded inwards to integers.
public enum SchemaCompiler {
    /// Compiles `schema` (a JSON Schema document, draft 2020-12 or draft 7 style) into a grammar
    /// whose start rule is `root`.
    public static func compile(_ schema: JSONValue, options: SchemaCompilerOptions = .init()) throws(SchemaCompileError) -> Grammar {
        var compiler = Compiler(root: schema, options: options)
        return try compiler.run()
    }
}
