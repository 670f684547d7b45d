// The scalar leaves of a call's arguments, each with the part of the tool's schema that governs it.
//
// Slots, pools and carriers all work per leaf: an object member holding a string, a number or a
// boolean, at any depth (nested objects, array items). A leaf's *pool key* names its place in the
// schema rather than in one value (`/labels/*` for every label), so all labels share one pool.

import JSON

/// One step of a path into an arguments object.
enum PathStep: Hashable, Sendable {
    case key(String)
    case index(Int)
}

/// One scalar value inside a call's arguments.
struct ArgumentLeaf: Sendable {
    /// Where the value sits in the arguments object.
    let path: [PathStep]
    /// The value.
    let value: JSONValue
    /// The subschema that constrains it (an empty schema when the tool's schema says nothing).
    let schema: JSONValue
    /// The nearest object key on the path (the array's name for an array item).
    let propertyName: String
    /// The first key on the path: the tool-level argument this leaf belongs to.
    let topProperty: String

    /// RFC 6901 pointer of the value ("/address/city", "/labels/0").
    var pointer: String { Self.pointer(path, wildcardIndexes: false) }
    /// The schema place shared by every value there ("/labels/*").
    var poolKey: String { Self.pointer(path, wildcardIndexes: true) }

    static func pointer(_ path: [PathStep], wildcardIndexes: Bool) -> String {
        var out = ""
        for step in path {
            switch step {
            case .key(let key): out += "/" + key.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
            case .index(let index): out += wildcardIndexes ? "/*" : "/\(index)"
            }
        }
        return out
    }
}

enum ArgumentLeaves {
    static let emptySchema: JSONValue = .object([])

    /// Every scalar leaf of `arguments`, in document order.
    static func leaves(of arguments: JSONValue, schema: JSONValue) -> [ArgumentLeaf] {
        var out: [ArgumentLeaf] = []
        collect(arguments, schema: schema, path: [], name: "", top: "", into: &out)
        return out
    }

    private static func collect(_ value: JSONValue, schema: JSONValue, path: [PathStep], name: String, top: String,
                                into out: inout [ArgumentLeaf]) {
        switch value {
        case .object(let members):
            for member in members {
                collect(member.value, schema: propertySchema(schema, member.key), path: path + [.key(member.key)],
                        name: member.key, top: top.isEmpty ? member.key : top, into: &out)
            }
        case .array(let items):
            for (index, item) in items.enumerated() {
                collect(item, schema: itemSchema(schema, index), path: path + [.index(index)], name: name, top: top, into: &out)
            }
        default:
            out.append(ArgumentLeaf(path: path, value: value, schema: schema, propertyName: name, topProperty: top))
        }
    }

    /// The schema of member `key` of objects described by `schema`.
    static func propertySchema(_ schema: JSONValue, _ key: String) -> JSONValue {
        if let property = schema["properties"]?[key], case .object = property { return property }
        if let additional = schema["additionalProperties"], case .object = additional { return additional }
        return emptySchema
    }

    /// The schema of item `index` of arrays described by `schema`.
    static func itemSchema(_ schema: JSONValue, _ index: Int) -> JSONValue {
        if let prefix = schema["prefixItems"]?.arrayValue, index < prefix.count { return prefix[index] }
        if let items = schema["items"], case .object = items { return items }
        return emptySchema
    }

    /// The names a tool's schema lists under `required`, in order.
    static func required(_ schema: JSONValue) -> [String] {
        schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// `root` with the value at `path` replaced by `newValue` (unchanged when the path is absent).
    static func replacing(_ root: JSONValue, at path: ArraySlice<PathStep>, with newValue: JSONValue) -> JSONValue {
        guard let step = path.first else { return newValue }
        switch (step, root) {
        case (.key(let key), .object(let members)):
            return .object(members.map { member in
                member.key == key ? (key: key, value: replacing(member.value, at: path.dropFirst(), with: newValue)) : member
            })
        case (.index(let index), .array(var items)) where items.indices.contains(index):
            items[index] = replacing(items[index], at: path.dropFirst(), with: newValue)
            return .array(items)
        default:
            return root
        }
    }

    /// `arguments` without its top-level member `key`.
    static func removing(_ arguments: JSONValue, key: String) -> JSONValue {
        guard case .object(let members) = arguments else { return arguments }
        return .object(members.filter { $0.key != key })
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
