// The daemon's settings: one JSON file, flags on top, then a check before anything starts.
//
// Reading is strict: unknown keys, wrong types and out-of-range numbers are errors that name the
// field by JSON pointer, because a typo silently ignored is a setting silently not applied.

import Foundation
import JSON

/// One tool catalogue the daemon serves, with its optional LoRA adapter.
public struct CatalogueConfig: Sendable, Equatable {
    /// The name agents use to select it: 1 to 64 of `A-Z a-z 0-9 _ -`, unique in a config.
    public var name: String
    /// Path of the catalogue file (OpenAI tools format).
    public var file: String
    /// Path of the LoRA adapter applied while routing this catalogue, if any.
    public var adapter: String?

    /// A catalogue entry.
    public init(name: String, file: String, adapter: String? = nil) {
        self.name = name
        self.file = file
        self.adapter = adapter
    }

    /// Whether `name` is a valid catalogue name (`[A-Za-z0-9_-]{1,64}`).
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x5F || byte == 0x2D
        }
    }
}

/// The settings of `toolrouter serve`.
///
/// The config file is one JSON object with these keys, all optional (an unknown key is an error);
/// each has a flag of the same name for `toolrouter serve`:
///
/// | Key | Flag | Type | Default | Meaning |
/// |---|---|---|---|---|
/// | `model` | `--model` | string | default model lookup | GGUF model file |
/// | `chat_template` | `--chat-template` | `chatml`, `llama3`, `gemma`, or null | null (the one recognised from the model file) | prompt format, for a model file with no template (Gemma 3 base) or one of no known family |
/// | `catalogues` | `--catalogue NAME=FILE` | array of `{"name", "file", "adapter"?}` | none (one or more required) | tool catalogues (OpenAI tools format); names `[A-Za-z0-9_-]{1,64}`, unique |
/// | `catalogues[].adapter` | `--adapter NAME=PATH` | string or null | null | LoRA adapter for that catalogue |
/// | `agent_socket` | `--agent-socket` | string | `/run/toolrouter/agent.sock` | Unix socket for agent loops (JSON-RPC 2.0), under 108 bytes |
/// | `handler_socket` | `--handler-socket` | string | `/run/toolrouter/handlers.sock` | Unix socket tool handlers register on, under 108 bytes |
/// | `http_socket` | `--http-socket` | string or null | null (no HTTP) | Unix socket for the OpenAI-compatible HTTP API; same mode and peer checks as the agent socket |
/// | `http_listen` | `--http-listen` | `"HOST:PORT"` or null | null | also serve HTTP on TCP; HOST numeric, loopback unless `http_token_file` is set |
/// | `http_token_file` | `--http-token-file` | string or null | null | file holding the bearer token every HTTP request over TCP must carry (`Authorization: Bearer …`); the Unix socket relies on its mode and peer checks |
/// | `mcp_servers` | (file only) | array of `{"name", "command", "args"?, "env"?, "adapter"?}` | none | MCP tool servers the daemon runs (stdio); each one's tools are the catalogue `name`; `command` with a slash is a path (relative to the file), else looked up on PATH; `args` are passed as written |
/// | `socket_mode` | `--socket-mode` | octal string (`"0660"`) or integer 0…511 | `"0660"` | permission bits of the agent socket |
/// | `allowed_uids` | `--allowed-uid` (repeatable) | array of integers, or null | null (anyone who can open the socket) | peer uids accepted on the agent socket (SO_PEERCRED) |
/// | `allowed_gids` | `--allowed-gid` (repeatable) | array of integers, or null | null (anyone who can open the socket) | peer gids accepted on the agent socket (primary or supplementary) |
/// | `handler_socket_mode` | `--handler-socket-mode` | as `socket_mode` | `"0660"` | permission bits of the handler socket |
/// | `handler_allowed_uids` | `--handler-allowed-uid` (repeatable) | as `allowed_uids` | null | peer uids accepted on the handler socket |
/// | `handler_allowed_gids` | `--handler-allowed-gid` (repeatable) | as `allowed_gids` | null | peer gids accepted on the handler socket |
/// | `tool_owners` | `--tool-owner TOOL=UID[,UID…]` (repeatable) | object `{"catalogue/tool" or "tool": [uids]}`, or null | null (the first uid to register a tool owns it) | uids that alone may register a tool |
/// | `queue_depth` | `--queue-depth` | integer 1…100000 | 64 | requests waiting for the worker before `overloaded` |
/// | `default_deadline_ms` | `--default-deadline-ms` | integer 1…3600000 | 10000 | deadline of a request that names none |
/// | `handler_timeout_ms` | `--handler-timeout-ms` | integer 1…3600000 | 5000 | how long a handler may take to answer `invoke` |
/// | `max_tokens` | `--max-tokens` | integer 1…32768 | 200 | generated tokens per request; less than `context_tokens` |
/// | `max_message_bytes` | `--max-message-bytes` | integer 1024…67108864 | 1048576 | longest protocol line on either socket |
/// | `context_tokens` | `--context-tokens` | integer 64…131072 | 2048 | KV cache capacity per sequence |
/// | `max_connections` | `--max-connections` | integer 1…65536 | 256 | open connections per socket; more are answered `overloaded` and closed; must fit the descriptor limit (checked at start) |
/// | `idle_timeout_ms` | `--idle-timeout-ms` | integer 100…3600000 | 30000 | an agent connection with no complete line for this long while nothing of it is pending, or a handler connection not registered this long after connecting, gets `idle_timeout` and is closed |
/// | `mask_cache_budget_mb` | `--mask-cache-budget-mb` | integer 1…65536 | 256 | most memory one catalogue's warmed token masks may take (estimated before warming); a catalogue past it is refused at load and reload |
/// | `stop_timeout_ms` | `--stop-timeout-ms` | integer 100…3600000 | 60000 | at SIGTERM, how long queued requests and handler calls may still take; then they get `shutting_down` (keep it below the unit's `TimeoutStopSec`, 90 s) |
/// | `allow_catalogue_mismatch` | `--allow-catalogue-mismatch` | boolean | false | load an adapter whose `train_info.json` records a catalogue other than the one it is paired with (logged as a warning) instead of refusing it |
/// | `log_level` | `--log-level` | `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical` | `info` | least severe log line written (request text only at `debug`) |
///
/// Relative paths in a file are taken relative to the file's directory; relative paths in flags,
/// relative to the working directory.
public struct DaemonConfig: Sendable, Equatable {
    /// GGUF model path; nil means the default model lookup.
    public var model: String?
    /// The chat template's name (`ChatTemplate.names`); nil means the one recognised from the model file.
    public var chatTemplate: String?
    /// The catalogues served, in order.
    public var catalogues: [CatalogueConfig]
    /// Path of the agents' socket.
    public var agentSocket: String
    /// Path of the handlers' socket.
    public var handlerSocket: String
    /// Path of the HTTP socket (nil: no HTTP on a Unix socket).
    public var httpSocket: String? = nil
    /// TCP address for HTTP, `HOST:PORT` (nil: none).
    public var httpListen: String? = nil
    /// File with the bearer token HTTP requests must carry (nil: none required).
    public var httpTokenFile: String? = nil
    /// MCP tool servers whose tools are served as catalogues (`mcp_servers`).
    public var mcpServers: [MCPServerConfig] = []
    /// Permission bits given to the agent socket (0...0o777).
    public var socketMode: UInt32
    /// Peer uids allowed on the agent socket; nil allows anyone who can open the socket.
    public var allowedUIDs: [UInt32]?
    /// Peer gids (primary or supplementary) allowed on the agent socket; nil allows anyone who can open it.
    public var allowedGIDs: [UInt32]?
    /// Permission bits given to the handler socket (0...0o777).
    public var handlerSocketMode: UInt32
    /// Peer uids allowed on the handler socket; nil allows anyone who can open the socket.
    public var handlerAllowedUIDs: [UInt32]?
    /// Peer gids (primary or supplementary) allowed on the handler socket; nil allows anyone who can open it.
    public var handlerAllowedGIDs: [UInt32]?
    /// Who may register which tool: "catalogue/tool" (or "tool", in any catalogue) → uids; tools not named
    /// are owned by the first uid to register them.
    public var toolOwners: [String: [UInt32]]
    /// Requests that may wait for the inference worker.
    public var queueDepth: Int
    /// Deadline of a request that gives none, in milliseconds.
    public var defaultDeadlineMs: Int
    /// Time a handler has to answer, in milliseconds.
    public var handlerTimeoutMs: Int
    /// Tokens generated per request at most.
    public var maxTokens: Int
    /// Longest message (one line) accepted on either socket, in bytes.
    public var maxMessageBytes: Int
    /// KV cache capacity in tokens.
    public var contextTokens: Int
    /// Connections each socket keeps open at most.
    public var maxConnections: Int
    /// How long a connection may stay idle (agents: no complete line; handlers: not registered), in milliseconds.
    public var idleTimeoutMs: Int
    /// Least severe level logged: one of `logLevels`.
    public var logLevel: String
    /// Most memory, in MiB, one catalogue's warmed token masks may take (`mask_cache_budget_mb`).
    public var maskCacheBudgetMB = 256
    /// How long a stop may take to finish accepted requests, in milliseconds (below systemd's TimeoutStopSec).
    public var stopTimeoutMs: Int
    /// Whether an adapter recorded as trained on another catalogue is loaded anyway, with a warning
    /// (`allow_catalogue_mismatch`), instead of refused.
    public var allowCatalogueMismatch = false

    /// The accepted `log_level` values, most verbose first.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// All defaults and no catalogues (add some before `validate()`).
    public init() {
        model = nil
        chatTemplate = nil
        catalogues = []
        agentSocket = "/run/toolrouter/agent.sock"
        handlerSocket = "/run/toolrouter/handlers.sock"
        socketMode = 0o660
        allowedUIDs = nil
        allowedGIDs = nil
        handlerSocketMode = 0o660
        handlerAllowedUIDs = nil
        handlerAllowedGIDs = nil
        toolOwners = [:]
        queueDepth = 64
        defaultDeadlineMs = 10_000
        handlerTimeoutMs = 5_000
        maxTokens = 200
        maxMessageBytes = 1 << 20
        contextTokens = 2048
        maxConnections = 256
        idleTimeoutMs = 30_000
        logLevel = "info"
        stopTimeoutMs = 60_000
    }

    /// The integer settings: file key, flag, accepted range and where the value lives.
    struct IntegerSetting {
        let key: String
        let flag: String
        let range: ClosedRange<Int>
        let keyPath: WritableKeyPath<DaemonConfig, Int>
    }

    static var integerSettings: [IntegerSetting] {
        [
            IntegerSetting(key: "queue_depth", flag: "--queue-depth", range: 1...100_000, keyPath: \.queueDepth),
            IntegerSetting(key: "default_deadline_ms", flag: "--default-deadline-ms", range: 1...3_600_000, keyPath: \.defaultDeadlineMs),
            IntegerSetting(key: "handler_timeout_ms", flag: "--handler-timeout-ms", range: 1...3_600_000, keyPath: \.handlerTimeoutMs),
            IntegerSetting(key: "max_tokens", flag: "--max-tokens", range: 1...32_768, keyPath: \.maxTokens),
            IntegerSetting(key: "max_message_bytes", flag: "--max-message-bytes", range: 1024...(64 << 20), keyPath: \.maxMessageBytes),
            IntegerSetting(key: "context_tokens", flag: "--context-tokens", range: 64...131_072, keyPath: \.contextTokens),
            IntegerSetting(key: "max_connections", flag: "--max-connections", range: 1...65_536, keyPath: \.maxConnections),
            IntegerSetting(key: "idle_timeout_ms", flag: "--idle-timeout-ms", range: 100...3_600_000, keyPath: \.idleTimeoutMs),
            IntegerSetting(key: "mask_cache_budget_mb", flag: "--mask-cache-budget-mb", range: 1...65_536, keyPath: \.maskCacheBudgetMB),
            IntegerSetting(key: "stop_timeout_ms", flag: "--stop-timeout-ms", range: 100...3_600_000, keyPath: \.stopTimeoutMs),
        ]
    }

    /// The largest socket mode accepted (no setuid, setgid or sticky bits).
    static let maxSocketMode: UInt32 = 0o777

    // MARK: Loading

    /// Reads, parses and decodes the config file at `path`. Relative paths inside it are resolved
    /// against the file's directory. Call `validate()` after applying flags.
    public static func load(path: String) throws(ConfigError) -> DaemonConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: describeFileError(path: path, error))
        }
        let json: JSONValue
        do throws(JSONParseError) {
            json = try JSONParser.parse(bytes: data, limits: JSONLimits(maxDepth: 16, maxBytes: 1 << 20))
        } catch {
            throw .syntax(path: path, error)
        }
        var config = try DaemonConfig(json: json)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        config.resolvePaths(relativeTo: directory)
        return config
    }

    /// Makes the model, catalogue and adapter paths absolute against `directory`.
    mutating func resolvePaths(relativeTo directory: String) {
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") || path.isEmpty ? path : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardized.path
        }
        model = model.map(resolve)
        for index in catalogues.indices {
            catalogues[index].file = resolve(catalogues[index].file)
            catalogues[index].adapter = catalogues[index].adapter.map(resolve)
        }
        httpTokenFile = httpTokenFile.map(resolve)
        for index in mcpServers.indices {
            // A command with a slash is a path (relative to the file); a bare name is looked up on PATH.
            if mcpServers[index].command.contains("/") { mcpServers[index].command = resolve(mcpServers[index].command) }
            mcpServers[index].adapter = mcpServers[index].adapter.map(resolve)
        }
    }
}

/// Why `path` cannot be read as a file: "no such file", "is a directory", "permission denied", or
/// Foundation's description of `error`.
func describeFileError(path: String, _ error: any Error) -> String {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
    if isDirectory.boolValue { return "is a directory" }
    if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
    return (error as NSError).localizedDescription
}
