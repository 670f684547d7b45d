// Command-line flags applied on top of the file (or of the defaults), and the final check.

import Foundation
import Tokenizer

/// Settings given as flags to `toolrouter serve`; nil (or empty) leaves the setting as it is.
public struct ConfigOverrides: Sendable, Equatable {
    /// `--model PATH`; an empty path restores the default model lookup.
    public var model: String?
    /// `--chat-template NAME`; an empty name restores the template recognised from the model file.
    public var chatTemplate: String? = nil
    /// `--catalogue NAME=FILE`, repeatable; replaces a file entry of the same name, else adds one.
    public var catalogues: [String]
    /// `--adapter NAME=PATH`, repeatable; NAME must be a catalogue of the file or of `--catalogue`.
    public var adapters: [String]
    /// `--agent-socket PATH`.
    public var agentSocket: String?
    /// `--handler-socket PATH`.
    public var handlerSocket: String?
    /// `--socket-mode MODE`, octal ("0660").
    public var socketMode: String?
    /// `--http-socket PATH`.
    public var httpSocket: String? = nil
    /// `--http-listen HOST:PORT`.
    public var httpListen: String? = nil
    /// `--http-token-file PATH`.
    public var httpTokenFile: String? = nil
    /// `--allowed-uid UID`, repeatable; replaces the file's list when not empty.
    public var allowedUIDs: [UInt32]
    /// `--allowed-gid GID`, repeatable; replaces the file's list when not empty.
    public var allowedGIDs: [UInt32]
    /// `--handler-socket-mode MODE`, octal ("0660").
    public var handlerSocketMode: String?
    /// `--handler-allowed-uid UID`, repeatable; replaces the file's list when not empty.
    public var handlerAllowedUIDs: [UInt32] = []
    /// `--handler-allowed-gid GID`, repeatable; replaces the file's list when not empty.
    public var handlerAllowedGIDs: [UInt32] = []
    /// `--tool-owner TOOL=UID[,UID…]`, repeatable; sets that tool's entry of `tool_owners`.
    public var toolOwners: [String] = []
    /// `--queue-depth N`.
    public var queueDepth: Int?
    /// `--default-deadline-ms N`.
    public var defaultDeadlineMs: Int?
    /// `--handler-timeout-ms N`.
    public var handlerTimeoutMs: Int?
    /// `--max-tokens N`.
    public var maxTokens: Int?
    /// `--max-message-bytes N`.
    public var maxMessageBytes: Int?
    /// `--context-tokens N`.
    public var contextTokens: Int?
    /// `--max-connections N`.
    public var maxConnections: Int?
    /// `--log-level LEVEL`.
    public var logLevel: String?
    /// `--idle-timeout-ms N`.
    public var idleTimeoutMs: Int?
    /// `--mask-cache-budget-mb N`.
    public var maskCacheBudgetMB: Int? = nil
    /// `--stop-timeout-ms N` (set after `init`).
    public var stopTimeoutMs: Int?
    /// `--allow-catalogue-mismatch`: true sets `allow_catalogue_mismatch`; nil leaves the file's value.
    public var allowCatalogueMismatch: Bool? = nil

    /// No overrides; set the fields you need.
    public init(model: String? = nil, catalogues: [String] = [], adapters: [String] = [],
                agentSocket: String? = nil, handlerSocket: String? = nil, socketMode: String? = nil,
                allowedUIDs: [UInt32] = [], allowedGIDs: [UInt32] = [], queueDepth: Int? = nil,
                defaultDeadlineMs: Int? = nil, handlerTimeoutMs: Int? = nil, maxTokens: Int? = nil,
                maxMessageBytes: Int? = nil, contextTokens: Int? = nil, maxConnections: Int? = nil, logLevel: String? = nil,
                idleTimeoutMs: Int? = nil) {
        self.model = model
        self.catalogues = catalogues
        self.adapters = adapters
        self.agentSocket = agentSocket
        self.handlerSocket = handlerSocket
        self.socketMode = socketMode
        self.allowedUIDs = allowedUIDs
        self.allowedGIDs = allowedGIDs
        self.queueDepth = queueDepth
        self.defaultDeadlineMs = defaultDeadlineMs
        self.handlerTimeoutMs = handlerTimeoutMs
        self.maxTokens = maxTokens
        self.maxMessageBytes = maxMessageBytes
        self.contextTokens = contextTokens
        self.maxConnections = maxConnections
        self.logLevel = logLevel
        self.idleTimeoutMs = idleTimeoutMs
    }

    /// The integer override for a setting's flag.
    func integer(forFlag flag: String) -> Int? {
        switch flag {
        case "--queue-depth": return queueDepth
        case "--default-deadline-ms": return defaultDeadlineMs
        case "--handler-timeout-ms": return handlerTimeoutMs
        case "--max-tokens": return maxTokens
        case "--max-message-bytes": return maxMessageBytes
        case "--context-tokens": return contextTokens
        case "--max-connections": return maxConnections
        case "--idle-timeout-ms": return idleTimeoutMs
        case "--mask-cache-budget-mb": return maskCacheBudgetMB
        case "--stop-timeout-ms": return stopTimeoutMs
        default: return nil
        }
    }
}

extension DaemonConfig {
    /// Applies flags over the current settings. Errors name the flag, e.g.
    /// `--catalogue: expected NAME=FILE, got "support"`.
    public mutating func apply(_ overrides: ConfigOverrides) throws(ConfigError) {
        if let model = overrides.model { self.model = model.isEmpty ? nil : model }
        if let name = overrides.chatTemplate {
            guard name.isEmpty || ChatTemplate.names.contains(name.lowercased()) else {
                throw .invalid(field: "--chat-template", message: "expected one of \(ChatTemplate.names.joined(separator: ", ")), got \(quoted(name))")
            }
            chatTemplate = name.isEmpty ? nil : name.lowercased()
        }
        try applyCatalogues(overrides.catalogues)
        try applyAdapters(overrides.adapters)
        if let path = overrides.agentSocket { agentSocket = try Self.nonEmpty(path, flag: "--agent-socket") }
        if let path = overrides.handlerSocket { handlerSocket = try Self.nonEmpty(path, flag: "--handler-socket") }
        if let text = overrides.socketMode { socketMode = try Self.modeFlag(text, flag: "--socket-mode") }
        if let path = overrides.httpSocket { httpSocket = try Self.nonEmpty(path, flag: "--http-socket") }
        if let address = overrides.httpListen { httpListen = try Self.nonEmpty(address, flag: "--http-listen") }
        if let path = overrides.httpTokenFile { httpTokenFile = try Self.nonEmpty(path, flag: "--http-token-file") }
        if !overrides.allowedUIDs.isEmpty { allowedUIDs = overrides.allowedUIDs }
        if !overrides.allowedGIDs.isEmpty { allowedGIDs = overrides.allowedGIDs }
        if let text = overrides.handlerSocketMode { handlerSocketMode = try Self.modeFlag(text, flag: "--handler-socket-mode") }
        if !overrides.handlerAllowedUIDs.isEmpty { handlerAllowedUIDs = overrides.handlerAllowedUIDs }
        if !overrides.handlerAllowedGIDs.isEmpty { handlerAllowedGIDs = overrides.handlerAllowedGIDs }
        for entry in overrides.toolOwners {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let texts = parts.count == 2 ? parts[1].split(separator: ",", omittingEmptySubsequences: false) : []
            let list = texts.compactMap { UInt32($0) }
            guard parts.count == 2, Self.isValidToolKey(parts[0]), !list.isEmpty, list.count == texts.count else {
                throw .invalid(field: "--tool-owner", message: "expected TOOL=UID[,UID...] (TOOL is \"catalogue/tool\" or \"tool\"), got \(quoted(entry))")
            }
            toolOwners[parts[0]] = list
        }
        if let allow = overrides.allowCatalogueMismatch { allowCatalogueMismatch = allow }
        if let level = overrides.logLevel {
            guard Self.logLevels.contains(level) else {
                throw .invalid(field: "--log-level", message: "expected one of \(Self.logLevels.joined(separator: ", ")), got \(quoted(level))")
            }
            logLevel = level
        }
        for setting in Self.integerSettings {
            guard let value = overrides.integer(forFlag: setting.flag) else { continue }
            guard setting.range.contains(value) else {
                throw .invalid(field: setting.flag, message: "must be between \(setting.range.lowerBound) and \(setting.range.upperBound), got \(value)")
            }
            self[keyPath: setting.keyPath] = value
        }
    }

    private mutating func applyCatalogues(_ entries: [String]) throws(ConfigError) {
        var seen: Set<String> = []
        for entry in entries {
            let (name, file) = try Self.splitAssignment(entry, flag: "--catalogue", shape: "NAME=FILE")
            guard seen.insert(name).inserted else {
                throw .invalid(field: "--catalogue", message: "catalogue \(quoted(name)) given twice")
            }
            if let index = catalogues.firstIndex(where: { $0.name == name }) {
                catalogues[index].file = file
            } else {
                catalogues.append(CatalogueConfig(name: name, file: file))
            }
        }
    }

    private mutating func applyAdapters(_ entries: [String]) throws(ConfigError) {
        for entry in entries {
            let (name, path) = try Self.splitAssignment(entry, flag: "--adapter", shape: "NAME=PATH")
            guard let index = catalogues.firstIndex(where: { $0.name == name }) else {
                let known = catalogues.map(\.name).joined(separator: ", ")
                throw .invalid(field: "--adapter", message: "no catalogue named \(quoted(name)) (known: \(known.isEmpty ? "none" : known))")
            }
            catalogues[index].adapter = path
        }
    }

    /// Splits `NAME=VALUE` at the first `=`, checking the name and that the value is not empty.
    static func splitAssignment(_ entry: String, flag: String, shape: String) throws(ConfigError) -> (String, String) {
        guard let equals = entry.firstIndex(of: "=") else {
            throw .invalid(field: flag, message: "expected \(shape), got \(quoted(entry))")
        }
        let name = String(entry[..<equals])
        let value = String(entry[entry.index(after: equals)...])
        guard !value.isEmpty else { throw .invalid(field: flag, message: "expected \(shape), got \(quoted(entry)) (empty path)") }
        guard CatalogueConfig.isValidName(name) else {
            throw .invalid(field: flag, message: "invalid catalogue name \(quoted(name)) in \(quoted(entry)): use 1 to 64 of A-Z a-z 0-9 _ -")
        }
        return (name, value)
    }

    /// An octal mode flag's value ("0660").
    static func modeFlag(_ text: String, flag: String) throws(ConfigError) -> UInt32 {
        guard let mode = parseOctalMode(text) else {
            throw .invalid(field: flag, message: "expected an octal mode like \"0660\", got \(quoted(text))")
        }
        return mode
    }

    static func nonEmpty(_ text: String, flag: String) throws(ConfigError) -> String {
        guard !text.isEmpty else { throw .invalid(field: flag, message: "must not be empty") }
        return text
    }

    // MARK: Validation

    /// The longest socket path `sockaddr_un` holds (108 bytes including the terminating NUL).
    public static let maxSocketPathBytes = 107

    /// Checks the merged settings before the daemon starts: at least one catalogue, every named
    /// file present and readable, usable socket paths, token limits that fit the context.
    public func validate() throws(ConfigError) {
        guard !catalogues.isEmpty || !mcpServers.isEmpty else {
            throw .invalid(field: "/catalogues", message: "at least one catalogue is required (in the file or as --catalogue NAME=FILE), or an MCP server (mcp_servers)")
        }
        for (index, server) in mcpServers.enumerated() {
            guard !catalogues.contains(where: { $0.name == server.name }) else {
                throw .invalid(field: "/mcp_servers/\(index)/name", message: "\(quoted(server.name)) is also a catalogue's name")
            }
            if let adapter = server.adapter { try Self.checkAdapterPath(adapter, at: JSONPointer.root.appending("mcp_servers").appending(index).appending("adapter")) }
        }
        var names: Set<String> = []
        for (index, entry) in catalogues.enumerated() {
            let pointer = JSONPointer.root.appending("catalogues").appending(index)
            guard CatalogueConfig.isValidName(entry.name) else {
                throw pointer.appending("name").error("invalid catalogue name \(quoted(entry.name)): use 1 to 64 of A-Z a-z 0-9 _ -")
            }
            guard names.insert(entry.name).inserted else {
                throw pointer.appending("name").error("duplicate catalogue name \(quoted(entry.name))")
            }
            try Self.checkReadableFile(entry.file, at: pointer.appending("file"))
            if let adapter = entry.adapter { try Self.checkAdapterPath(adapter, at: pointer.appending("adapter")) }
        }
        if let model { try Self.checkReadableFile(model, at: JSONPointer.root.appending("model")) }
        try Self.checkSocketPath(agentSocket, at: JSONPointer.root.appending("agent_socket"))
        try Self.checkSocketPath(handlerSocket, at: JSONPointer.root.appending("handler_socket"))
        guard agentSocket != handlerSocket else {
            throw .invalid(field: "/handler_socket", message: "must differ from agent_socket (both are \(quoted(agentSocket)))")
        }
        if let httpSocket {
            try Self.checkSocketPath(httpSocket, at: JSONPointer.root.appending("http_socket"))
            guard httpSocket != agentSocket, httpSocket != handlerSocket else {
                throw .invalid(field: "/http_socket", message: "must differ from agent_socket and handler_socket (\(quoted(httpSocket)))")
            }
        }
        if let address = try httpTCPAddress() {
            let loopback = address.host == "::1" || address.host.hasPrefix("127.")
            guard loopback || httpTokenFile != nil else {
                throw .invalid(field: "/http_listen", message: "\(quoted(address.host)) is not a loopback address: serving HTTP beyond this host needs http_token_file (a bearer token)")
            }
        }
        if let httpTokenFile {
            try Self.checkReadableFile(httpTokenFile, at: JSONPointer.root.appending("http_token_file"))
            guard (try? httpToken())?.isEmpty == false else {
                throw .invalid(field: "/http_token_file", message: "\(quoted(httpTokenFile)) holds no token (an empty file, or only whitespace)")
            }
        }
        guard socketMode <= Self.maxSocketMode else {
            throw .invalid(field: "/socket_mode", message: "must be at most 0777, got \(Self.octal(socketMode))")
        }
        guard handlerSocketMode <= Self.maxSocketMode else {
            throw .invalid(field: "/handler_socket_mode", message: "must be at most 0777, got \(Self.octal(handlerSocketMode))")
        }
        for setting in Self.integerSettings where !setting.range.contains(self[keyPath: setting.keyPath]) {
            throw .invalid(field: "/" + setting.key, message: "must be between \(setting.range.lowerBound) and \(setting.range.upperBound), got \(self[keyPath: setting.keyPath])")
        }
        guard maxTokens < contextTokens else {
            throw .invalid(field: "/max_tokens", message: "must be less than context_tokens (\(contextTokens)), got \(maxTokens)")
        }
        if allowedUIDs?.isEmpty == true { throw .invalid(field: "/allowed_uids", message: "must not be empty (omit it to allow anyone)") }
        if allowedGIDs?.isEmpty == true { throw .invalid(field: "/allowed_gids", message: "must not be empty (omit it to allow anyone)") }
        if handlerAllowedUIDs?.isEmpty == true { throw .invalid(field: "/handler_allowed_uids", message: "must not be empty (omit it to allow anyone)") }
        if handlerAllowedGIDs?.isEmpty == true { throw .invalid(field: "/handler_allowed_gids", message: "must not be empty (omit it to allow anyone)") }
    }

    static func checkReadableFile(_ path: String, at pointer: JSONPointer) throws(ConfigError) {
        var isDirectory: ObjCBool = false
        guard !path.isEmpty else { throw pointer.error("must not be empty") }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw pointer.error("no such file: \(quoted(path))")
        }
        guard !isDirectory.boolValue else { throw pointer.error("is a directory, not a file: \(quoted(path))") }
        guard FileManager.default.isReadableFile(atPath: path) else { throw pointer.error("not readable: \(quoted(path))") }
    }

    /// A LoRA adapter is a GGUF adapter file or a PEFT directory holding `adapter_config.json` and
    /// `adapter_model.safetensors`; the files' contents are checked when the adapter is loaded.
    static func checkAdapterPath(_ path: String, at pointer: JSONPointer) throws(ConfigError) {
        var isDirectory: ObjCBool = false
        guard !path.isEmpty else { throw pointer.error("must not be empty") }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw pointer.error("no such file or directory: \(quoted(path))")
        }
        guard isDirectory.boolValue else { return try checkReadableFile(path, at: pointer) }
        for name in ["adapter_config.json", "adapter_model.safetensors"] {
            let file = (path as NSString).appendingPathComponent(name)
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw pointer.error("PEFT adapter directory \(quoted(path)) has no readable \(name)")
            }
        }
    }

    static func checkSocketPath(_ path: String, at pointer: JSONPointer) throws(ConfigError) {
        guard !path.isEmpty else { throw pointer.error("must not be empty") }
        let length = path.utf8.count
        guard length <= maxSocketPathBytes else {
            throw pointer.error("socket path is \(length) bytes; the limit is \(maxSocketPathBytes) (sun_path): \(quoted(path))")
        }
        guard !path.utf8.contains(0) else { throw pointer.error("must not contain a NUL byte") }
    }
}

/// `text` as a JSON string literal, for messages.
func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }

extension DaemonConfig {
    /// `http_listen` read as a numeric host (IPv6 without its brackets) and a port; nil when unset.
    public func httpTCPAddress() throws(ConfigError) -> (host: String, port: Int)? {
        guard let text = httpListen else { return nil }
        let invalid = ConfigError.invalid(field: "/http_listen", message: "expected HOST:PORT with a numeric host (127.0.0.1:8080, [::1]:8080), got \(quoted(text))")
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw invalid }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr(), v6 = in6_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else { throw invalid }
        return (host, port)
    }

    /// The bearer token from `http_token_file`, whitespace around it trimmed; nil when unset.
    public func httpToken() throws -> String? {
        guard let httpTokenFile else { return nil }
        return try String(contentsOfFile: httpTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
