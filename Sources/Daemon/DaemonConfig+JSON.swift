// Decoding the config file's JSON object into `DaemonConfig`, and writing it back.

import JSON
import Tokenizer

extension DaemonConfig {
    /// The keys a config file may contain, in the order `json` writes them.
    static let fileKeys = ["model", "chat_template", "catalogues", "agent_socket", "handler_socket", "http_socket", "http_listen", "http_token_file", "mcp_servers", "socket_mode",
                           "allowed_uids", "allowed_gids",
                           "handler_socket_mode", "handler_allowed_uids", "handler_allowed_gids", "tool_owners",
                           "queue_depth", "default_deadline_ms",
                           "handler_timeout_ms", "max_tokens", "max_message_bytes", "context_tokens", "max_connections",
                           "stop_timeout_ms", "idle_timeout_ms", "log_level", "mask_cache_budget_mb",
                           "allow_catalogue_mismatch"]

    /// Decodes a config file's top-level object; absent keys keep their defaults.
    /// Throws `.invalid` naming the first bad field by JSON pointer.
    public init(json: JSONValue) throws(ConfigError) {
        self.init()
        let members = try Self.members(of: json, at: .root, allowed: Self.fileKeys)
        for (key, value) in members {
            let pointer = JSONPointer.root.appending(key)
            switch key {
            case "model": model = try Self.optionalPath(value, at: pointer)
            case "chat_template": chatTemplate = value == .null ? nil : try Self.chatTemplateName(Self.string(value, at: pointer), at: pointer)
            case "catalogues": catalogues = try Self.catalogues(value, at: pointer)
            case "agent_socket": agentSocket = try Self.string(value, at: pointer)
            case "handler_socket": handlerSocket = try Self.string(value, at: pointer)
            case "http_socket": httpSocket = value == .null ? nil : try Self.string(value, at: pointer)
            case "http_listen": httpListen = value == .null ? nil : try Self.string(value, at: pointer)
            case "http_token_file": httpTokenFile = try Self.optionalPath(value, at: pointer)
            case "mcp_servers": mcpServers = try Self.mcpServers(value, at: pointer)
            case "socket_mode": socketMode = try Self.socketMode(value, at: pointer)
            case "allowed_uids": allowedUIDs = try Self.idList(value, at: pointer)
            case "allowed_gids": allowedGIDs = try Self.idList(value, at: pointer)
            case "handler_socket_mode": handlerSocketMode = try Self.socketMode(value, at: pointer)
            case "handler_allowed_uids": handlerAllowedUIDs = try Self.idList(value, at: pointer)
            case "handler_allowed_gids": handlerAllowedGIDs = try Self.idList(value, at: pointer)
            case "tool_owners": toolOwners = try Self.toolOwners(value, at: pointer)
            case "log_level": logLevel = try Self.logLevel(Self.string(value, at: pointer), at: pointer)
            case "allow_catalogue_mismatch":
                guard let flag = value.boolValue else { throw pointer.error("expected true or false, got \(typeName(value))") }
                allowCatalogueMismatch = flag
            default:
                guard let setting = Self.integerSettings.first(where: { $0.key == key }) else {
                    throw pointer.error("unknown key")
                }
                self[keyPath: setting.keyPath] = try Self.integer(value, in: setting.range, at: pointer)
            }
        }
    }

    /// The config as a file object with every key written (a file that decodes to an equal config).
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        members.append((key: "model", value: model.map(JSONValue.string) ?? .null))
        members.append((key: "chat_template", value: chatTemplate.map(JSONValue.string) ?? .null))
        let entries: [JSONValue] = catalogues.map { entry in
            .object([(key: "name", value: .string(entry.name)), (key: "file", value: .string(entry.file)),
                     (key: "adapter", value: entry.adapter.map(JSONValue.string) ?? .null)])
        }
        members.append((key: "catalogues", value: .array(entries)))
        members.append((key: "agent_socket", value: .string(agentSocket)))
        members.append((key: "handler_socket", value: .string(handlerSocket)))
        members.append((key: "http_socket", value: httpSocket.map(JSONValue.string) ?? .null))
        members.append((key: "http_listen", value: httpListen.map(JSONValue.string) ?? .null))
        members.append((key: "http_token_file", value: httpTokenFile.map(JSONValue.string) ?? .null))
        members.append((key: "mcp_servers", value: .array(mcpServers.map { server in
            .object([("name", .string(server.name)), ("command", .string(server.command)), ("args", .array(server.arguments.map(JSONValue.string))),
                     ("env", .object(server.environment.keys.sorted().map { (key: $0, value: .string(server.environment[$0] ?? "")) })),
                     ("adapter", server.adapter.map(JSONValue.string) ?? .null)])
        })))
        members.append((key: "socket_mode", value: .string(Self.octal(socketMode))))
        func ids(_ list: [UInt32]?) -> JSONValue {
            list.map { .array($0.map { .number(JSONNumber(Int($0))) }) } ?? .null
        }
        members.append((key: "allowed_uids", value: ids(allowedUIDs)))
        members.append((key: "allowed_gids", value: ids(allowedGIDs)))
        members.append((key: "handler_socket_mode", value: .string(Self.octal(handlerSocketMode))))
        members.append((key: "handler_allowed_uids", value: ids(handlerAllowedUIDs)))
        members.append((key: "handler_allowed_gids", value: ids(handlerAllowedGIDs)))
        members.append((key: "tool_owners", value: toolOwners.isEmpty ? .null : .object(toolOwners.keys.sorted().map { (key: $0, value: ids(toolOwners[$0])) })))
        for setting in Self.integerSettings {
            members.append((key: setting.key, value: .number(JSONNumber(self[keyPath: setting.keyPath]))))
        }
        members.append((key: "log_level", value: .string(logLevel)))
        members.append((key: "allow_catalogue_mismatch", value: .bool(allowCatalogueMismatch)))
        return .object(members)
    }

    /// `mode` as four octal digits, e.g. "0660".
    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Field readers

    static func logLevel(_ text: String, at pointer: JSONPointer) throws(ConfigError) -> String {
        guard logLevels.contains(text) else { throw pointer.error("expected one of \(logLevels.joined(separator: ", ")), got \(quoted(text))") }
        return text
    }

    /// The members of an object whose keys all belong to `allowed`.
    static func members(of value: JSONValue, at pointer: JSONPointer, allowed: [String]) throws(ConfigError) -> [(key: String, value: JSONValue)] {
        guard let members = value.objectMembers else {
            throw pointer.error("expected an object, got \(typeName(value))")
        }
        for member in members where !allowed.contains(member.key) {
            throw pointer.appending(member.key).error("unknown key (expected one of: \(allowed.joined(separator: ", ")))")
        }
        return members
    }

    static func string(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> String {
        guard let text = value.stringValue else { throw pointer.error("expected a string, got \(typeName(value))") }
        guard !text.isEmpty else { throw pointer.error("must not be empty") }
        return text
    }

    /// A path that may be null (meaning "not set").
    /// A chat template name `ChatTemplate(name:)` knows, lowercased.
    static func chatTemplateName(_ name: String, at pointer: JSONPointer) throws(ConfigError) -> String {
        guard ChatTemplate.names.contains(name.lowercased()) else {
            throw pointer.error("unknown chat template \(quoted(name)) (known: \(ChatTemplate.names.joined(separator: ", ")))")
        }
        return name.lowercased()
    }

    static func optionalPath(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> String? {
        if value == .null { return nil }
        guard let text = value.stringValue else { throw pointer.error("expected a path string or null, got \(typeName(value))") }
        guard !text.isEmpty else { throw pointer.error("must not be empty (use null for none)") }
        return text
    }

    static func integer(_ value: JSONValue, in range: ClosedRange<Int>, at pointer: JSONPointer) throws(ConfigError) -> Int {
        guard case .number(let number) = value else { throw pointer.error("expected an integer, got \(typeName(value))") }
        guard number.isInteger else { throw pointer.error("expected an integer, got \(number.text)") }
        guard let integer = number.intValue, range.contains(integer) else {
            throw pointer.error("must be between \(range.lowerBound) and \(range.upperBound), got \(number.text)")
        }
        return integer
    }

    /// An octal string of 3 or 4 digits ("0660", "660") or an integer 0...511.
    static func socketMode(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> UInt32 {
        switch value {
        case .string(let text):
            guard let mode = parseOctalMode(text) else { throw pointer.error("expected an octal mode like \"0660\", got \(JSONWriter.quoted(text))") }
            return mode
        case .number:
            return UInt32(try integer(value, in: 0...Int(maxSocketMode), at: pointer))
        default:
            throw pointer.error("expected an octal mode like \"0660\"")
        }
    }

    /// The value of "0660", "660" or "0o660"; nil for anything else or above 0777.
    static func parseOctalMode(_ text: String) -> UInt32? {
        let digits = text.hasPrefix("0o") ? String(text.dropFirst(2)) : text
        guard (3...4).contains(digits.count), digits.allSatisfy({ ("0"..."7").contains($0) }),
              let mode = UInt32(digits, radix: 8), mode <= maxSocketMode else { return nil }
        return mode
    }

    /// A list of uids or gids, or null for "anyone".
    static func idList(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> [UInt32]? {
        if value == .null { return nil }
        guard let items = value.arrayValue else { throw pointer.error("expected an array of ids or null, got \(typeName(value))") }
        guard !items.isEmpty else { throw pointer.error("must not be empty (use null or omit it to allow anyone)") }
        var ids: [UInt32] = []
        for (index, item) in items.enumerated() {
            ids.append(UInt32(try integer(item, in: 0...Int(UInt32.max - 1), at: pointer.appending(index))))
        }
        return ids
    }

    /// `{"catalogue/tool" or "tool": [uids]}`, or null for none.
    static func toolOwners(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> [String: [UInt32]] {
        if value == .null { return [:] }
        guard let members = value.objectMembers else { throw pointer.error("expected an object of tool → uids, or null, got \(typeName(value))") }
        var owners: [String: [UInt32]] = [:]
        for member in members {
            let at = pointer.appending(member.key)
            guard isValidToolKey(member.key) else { throw at.error("expected \"catalogue/tool\" or \"tool\"") }
            guard let uids = try idList(member.value, at: at) else { throw at.error("expected an array of uids, got null") }
            owners[member.key] = uids
        }
        return owners
    }

    /// "tool" or "catalogue/tool": one or two non-empty parts.
    static func isValidToolKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty }
    }

    static func mcpServers(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> [MCPServerConfig] {
        guard let items = value.arrayValue else { throw pointer.error("expected an array of MCP servers, got \(typeName(value))") }
        var result: [MCPServerConfig] = []
        for (index, item) in items.enumerated() {
            let at = pointer.appending(index)
            let members = try members(of: item, at: at, allowed: ["name", "command", "args", "env", "adapter"])
            func member(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }
            guard let nameValue = member("name") else { throw at.appending("name").error("missing (every MCP server needs a name)") }
            let name = try string(nameValue, at: at.appending("name"))
            guard CatalogueConfig.isValidName(name) else {
                throw at.appending("name").error("invalid catalogue name \(JSONWriter.quoted(name)): use 1 to 64 of A-Z a-z 0-9 _ -")
            }
            guard !result.contains(where: { $0.name == name }) else { throw at.appending("name").error("duplicate MCP server name \(JSONWriter.quoted(name))") }
            guard let commandValue = member("command") else { throw at.appending("command").error("missing") }
            let command = try string(commandValue, at: at.appending("command"))
            var arguments: [String] = []
            if let args = member("args"), args != .null {
                guard let list = args.arrayValue else { throw at.appending("args").error("expected an array of strings") }
                for (i, arg) in list.enumerated() {
                    guard let text = arg.stringValue else { throw at.appending("args").appending(i).error("expected a string, got \(typeName(arg))") }
                    arguments.append(text)
                }
            }
            var environment: [String: String] = [:]
            if let env = member("env"), env != .null {
                guard let pairs = env.objectMembers else { throw at.appending("env").error("expected an object of strings") }
                for pair in pairs {
                    guard let text = pair.value.stringValue else { throw at.appending("env").appending(pair.key).error("expected a string") }
                    environment[pair.key] = text
                }
            }
            let adapter = try optionalPath(member("adapter") ?? .null, at: at.appending("adapter"))
            result.append(MCPServerConfig(name: name, command: command, arguments: arguments, environment: environment, adapter: adapter))
        }
        return result
    }

    static func catalogues(_ value: JSONValue, at pointer: JSONPointer) throws(ConfigError) -> [CatalogueConfig] {
        guard let items = value.arrayValue else { throw pointer.error("expected an array of catalogues, got \(typeName(value))") }
        var result: [CatalogueConfig] = []
        for (index, item) in items.enumerated() {
            let itemPointer = pointer.appending(index)
            let members = try members(of: item, at: itemPointer, allowed: ["name", "file", "adapter"])
            guard let nameValue = item["name"] else { throw itemPointer.appending("name").error("missing (every catalogue needs a name)") }
            guard let fileValue = item["file"] else { throw itemPointer.appending("file").error("missing (every catalogue needs a file)") }
            let name = try string(nameValue, at: itemPointer.appending("name"))
            guard CatalogueConfig.isValidName(name) else {
                throw itemPointer.appending("name").error("invalid catalogue name \(JSONWriter.quoted(name)): use 1 to 64 of A-Z a-z 0-9 _ -")
            }
            guard !result.contains(where: { $0.name == name }) else {
                throw itemPointer.appending("name").error("duplicate catalogue name \(JSONWriter.quoted(name))")
            }
            let file = try string(fileValue, at: itemPointer.appending("file"))
            let adapterValue = members.first { $0.key == "adapter" }?.value ?? .null
            let adapter = try optionalPath(adapterValue, at: itemPointer.appending("adapter"))
            result.append(CatalogueConfig(name: name, file: file, adapter: adapter))
        }
        return result
    }
}
