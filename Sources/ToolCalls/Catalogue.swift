// Tool catalogues in the OpenAI tools format:
//
//   [{"type": "function", "function": {"name": ..., "description": ..., "parameters": {...}}}]
//
// Loading checks the shape strictly and names the JSON pointer of the first problem found.

import Foundation
import JSON

/// One callable tool.
public struct ToolDefinition: Sendable, Equatable {
    /// The tool's name, matching `[A-Za-z0-9_-]{1,64}` and never "no_tool".
    public let name: String
    /// What the tool does, for the prompt ("" when the catalogue gives none).
    public let description: String
    /// The JSON Schema of the tool's arguments: an object schema.
    public let parameters: JSONValue

    /// A tool definition. The catalogue initialisers check names and schemas; this one does not.
    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// The tools a router may call, in catalogue order.
public struct ToolCatalogue: Sendable {
    /// The reserved name of the "decline" answer.
    public static let noToolName = "no_tool"

    /// The tools, in the order the catalogue lists them.
    public let tools: [ToolDefinition]
    /// Each tool's compiled argument validator, by name.
    private let validators: [String: SchemaValidator]

    /// Reads a catalogue from a parsed OpenAI tools array. Values nested deeper than
    /// `NestingLimit.depth` are refused first (the parser never makes them; code might).
    public init(json: JSONValue) throws(CatalogueError) {
        guard case .array(let entries) = json else { throw .notAnArray(found: json.kindDescription) }
        if let pointer = Self.firstTooDeep(json) { throw .nestingTooDeep(limit: NestingLimit.depth, pointer: pointer) }
        var tools: [ToolDefinition] = []
        var validators: [String: SchemaValidator] = [:]
        var firstUse: [String: String] = [:]
        for (index, entry) in entries.enumerated() {
            let pointer = JSONPointer.appending("", index)
            let tool = try Self.readTool(entry, pointer: pointer)
            let namePointer = pointer + "/function/name"
            if let earlier = firstUse[tool.name] {
                throw .duplicateName(tool.name, pointer: namePointer, firstPointer: earlier)
            }
            firstUse[tool.name] = namePointer
            let parametersPointer = pointer + "/function/parameters"
            do {
                validators[tool.name] = try SchemaValidator(schema: tool.parameters)
            } catch {
                throw .unsupportedSchema(error, pointer: parametersPointer + error.pointer)
            }
            tools.append(tool)
        }
        self.tools = tools
        self.validators = validators
    }

    /// Reads a catalogue from a JSON file.
    public init(contentsOf path: String, limits: JSONLimits = .init()) throws(CatalogueError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: error.localizedDescription)
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes: data, limits: limits)
        } catch {
            throw .invalidJSON(error)
        }
        try self.init(json: json)
    }

    /// The tool called `name`, if the catalogue has one.
    public func tool(named name: String) -> ToolDefinition? {
        tools.first { $0.name == name }
    }

    /// The tool names in catalogue order.
    public var names: [String] { tools.map(\.name) }

    /// Checks a call against the catalogue: the arguments of a tool call against that tool's
    /// `parameters` schema (instance pointers are relative to the arguments object), its
    /// `x-from-input` values against `origin`'s request. A refusal has nothing to check; a call of a
    /// tool the catalogue lacks is one issue.
    public func validate(_ call: ToolCall, origin: CallOrigin) -> [ValidationIssue] {
        switch call {
        case .noTool:
            return []
        case .tool(let name, let arguments):
            guard let validator = validators[name] else {
                return [ValidationIssue(instancePointer: "", schemaPointer: "", message: "unknown tool \(JSONWriter.quoted(name))")]
            }
            return validator.validate(arguments, origin: origin)
        }
    }

    /// The pointer of the first array or object nested deeper than `NestingLimit.depth`, found
    /// without recursion (so an arbitrarily deep value cannot overflow the stack here either).
    static func firstTooDeep(_ root: JSONValue) -> String? {
        var pending: [(value: JSONValue, pointer: String, depth: Int)] = [(root, "", 1)]
        while let (value, pointer, depth) = pending.popLast() {
            switch value {
            case .array(let items):
                guard depth <= NestingLimit.depth else { return pointer }
                for (index, item) in items.enumerated().reversed() { pending.append((item, JSONPointer.appending(pointer, index), depth + 1)) }
            case .object(let members):
                guard depth <= NestingLimit.depth else { return pointer }
                for member in members.reversed() { pending.append((member.value, JSONPointer.appending(pointer, member.key), depth + 1)) }
            default:
                continue
            }
        }
        return nil
    }

    // MARK: Reading one entry

    private static func readTool(_ entry: JSONValue, pointer: String) throws(CatalogueError) -> ToolDefinition {
        guard case .object = entry else { throw .notAnObject(found: entry.kindDescription, pointer: pointer) }
        let typePointer = JSONPointer.appending(pointer, "type")
        guard let type = entry["type"] else { throw .missingMember("type", pointer: pointer) }
        guard type == .string("function") else { throw .unsupportedType(found: type.kindDescription, pointer: typePointer) }

        let functionPointer = JSONPointer.appending(pointer, "function")
        guard let function = entry["function"] else { throw .missingMember("function", pointer: pointer) }
        guard case .object = function else { throw .notAnObject(found: function.kindDescription, pointer: functionPointer) }

        let name = try readName(function, pointer: functionPointer)
        let description = try readDescription(function, pointer: functionPointer)
        let parametersPointer = JSONPointer.appending(functionPointer, "parameters")
        let parameters = function["parameters"] ?? Self.emptyParameters
        try checkObjectSchema(parameters, pointer: parametersPointer)
        return ToolDefinition(name: name, description: description, parameters: parameters)
    }

    /// What a tool without `parameters` takes: nothing.
    static let emptyParameters: JSONValue = .object([
        (key: "type", value: .string("object")),
        (key: "properties", value: .object([])),
        (key: "additionalProperties", value: .bool(false)),
    ])

    private static func readName(_ function: JSONValue, pointer: String) throws(CatalogueError) -> String {
        let namePointer = JSONPointer.appending(pointer, "name")
        guard let value = function["name"] else { throw .missingMember("name", pointer: pointer) }
        guard case .string(let name) = value else { throw .notAString(found: value.kindDescription, pointer: namePointer) }
        guard isValidName(name) else { throw .invalidName(name, pointer: namePointer) }
        guard name != noToolName else { throw .reservedName(name, pointer: namePointer) }
        return name
    }

    private static func readDescription(_ function: JSONValue, pointer: String) throws(CatalogueError) -> String {
        guard let value = function["description"] else { return "" }
        guard case .string(let text) = value else {
            throw .notAString(found: value.kindDescription, pointer: JSONPointer.appending(pointer, "description"))
        }
        return text
    }

    /// Whether `name` matches `[A-Za-z0-9_-]{1,64}`.
    static func isValidName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    /// Checks that `parameters` describes objects: an object schema whose `type` is "object",
    /// whose `properties` (if any) is an object of schemas and whose `required` (if any) lists
    /// property names as strings.
    private static func checkObjectSchema(_ parameters: JSONValue, pointer: String) throws(CatalogueError) {
        guard case .object = parameters else {
            throw .parametersNotObjectSchema(reason: "expected a schema object, found \(parameters.kindDescription)", pointer: pointer)
        }
        guard let type = parameters["type"] else {
            throw .parametersNotObjectSchema(reason: "missing \"type\": \"object\"", pointer: pointer)
        }
        guard type == .string("object") else {
            throw .parametersNotObjectSchema(reason: "\"type\" must be \"object\", found \(type.kindDescription)",
                                             pointer: JSONPointer.appending(pointer, "type"))
        }
        if let properties = parameters["properties"] {
            let propertiesPointer = JSONPointer.appending(pointer, "properties")
            guard case .object(let members) = properties else {
                throw .parametersNotObjectSchema(reason: "\"properties\" must be an object, found \(properties.kindDescription)",
                                                 pointer: propertiesPointer)
            }
            for member in members {
                switch member.value {
                case .object, .bool: continue
                default:
                    throw .parametersNotObjectSchema(reason: "property schema must be an object or a boolean, found \(member.value.kindDescription)",
                                                     pointer: JSONPointer.appending(propertiesPointer, member.key))
                }
            }
        }
        if let required = parameters["required"] {
            let requiredPointer = JSONPointer.appending(pointer, "required")
            guard case .array(let names) = required else {
                throw .parametersNotObjectSchema(reason: "\"required\" must be an array of property names, found \(required.kindDescription)",
                                                 pointer: requiredPointer)
            }
            for (index, name) in names.enumerated() where name.stringValue == nil {
                throw .parametersNotObjectSchema(reason: "required property name must be a string, found \(name.kindDescription)",
                                                 pointer: JSONPointer.appending(requiredPointer, index))
            }
        }
    }
}
