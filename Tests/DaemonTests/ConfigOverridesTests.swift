import Foundation
import JSON
import TestSupport
import Testing
@testable import Daemon

/// The repo's demo catalogues, which exist and are readable.
private let supportFile = TestPaths.packageRoot.appendingPathComponent("examples/catalogues/support.tools.json").path
private let devopsFile = TestPaths.packageRoot.appendingPathComponent("examples/catalogues/devops.tools.json").path

/// The error `body` throws, as `field: message`, or nil.
private func message(_ body: () throws(ConfigError) -> Void) -> String? {
    do throws(ConfigError) {
        try body()
        return nil
    } catch {
        return error.description
    }
}

@Suite struct ConfigOverridesTests {
    @Test func flagsAloneMakeAValidConfig() throws {
        var config = DaemonConfig()
        try config.apply(ConfigOverrides(catalogues: ["support=\(supportFile)"], agentSocket: "/tmp/a.sock"))
        try config.validate()
        #expect(config.catalogues == [CatalogueConfig(name: "support", file: supportFile)])
        #expect(config.agentSocket == "/tmp/a.sock")
        #expect(config.handlerSocket == "/run/toolrouter/handlers.sock")
    }

    @Test("chat_template: null by default, read from the file, set and cleared by the flag, unknown names refused, written back")
    func chatTemplate() throws {
        var config = DaemonConfig()
        #expect(config.chatTemplate == nil)
        config = try DaemonConfig(json: JSONParser.parse(#"{"chat_template": "Gemma"}"#))
        #expect(config.chatTemplate == "gemma")
        #expect(try DaemonConfig(json: config.json) == config)
        let unknown = try JSONParser.parse(#"{"chat_template": "alpaca"}"#)
        #expect(message { () throws(ConfigError) in _ = try DaemonConfig(json: unknown) }
                == #"/chat_template: unknown chat template "alpaca" (known: chatml, llama3, gemma)"#)
        var overrides = ConfigOverrides()
        overrides.chatTemplate = "chatml"
        try config.apply(overrides)
        #expect(config.chatTemplate == "chatml")
        overrides.chatTemplate = ""
        try config.apply(overrides)
        #expect(config.chatTemplate == nil)
        overrides.chatTemplate = "vicuna"
        #expect(message { () throws(ConfigError) in try config.apply(overrides) } == #"--chat-template: expected one of chatml, llama3, gemma, got "vicuna""#)
    }

    @Test func everyScalarOverrides() throws {
        var config = DaemonConfig()
        try config.apply(ConfigOverrides(
            model: "/m.gguf", agentSocket: "/a", handlerSocket: "/h", socketMode: "0600",
            allowedUIDs: [1000], allowedGIDs: [100, 101], queueDepth: 2, defaultDeadlineMs: 3,
            handlerTimeoutMs: 4, maxTokens: 5, maxMessageBytes: 2048, contextTokens: 128, maxConnections: 7, logLevel: "debug"))
        var expected = DaemonConfig()
        expected.model = "/m.gguf"
        expected.agentSocket = "/a"
        expected.handlerSocket = "/h"
        expected.socketMode = 0o600
        expected.allowedUIDs = [1000]
        expected.allowedGIDs = [100, 101]
        expected.queueDepth = 2
        expected.defaultDeadlineMs = 3
        expected.handlerTimeoutMs = 4
        expected.maxTokens = 5
        expected.maxMessageBytes = 2048
        expected.contextTokens = 128
        expected.maxConnections = 7
        expected.logLevel = "debug"
        #expect(config == expected)
    }

    @Test func maskCacheBudget() throws {
        var config = try DaemonConfig(json: JSONParser.parse(#"{"mask_cache_budget_mb": 64, "catalogues": [{"name": "a", "file": "/a"}]}"#))
        #expect(config.maskCacheBudgetMB == 64 && DaemonConfig().maskCacheBudgetMB == 256)
        #expect(config.json["mask_cache_budget_mb"] == .number(JSONNumber(64)))
        var overrides = ConfigOverrides()
        overrides.maskCacheBudgetMB = 1024
        try config.apply(overrides)
        #expect(config.maskCacheBudgetMB == 1024)
        overrides.maskCacheBudgetMB = 0
        #expect(throws: ConfigError.invalid(field: "--mask-cache-budget-mb", message: "must be between 1 and 65536, got 0")) {
            try config.apply(overrides)
        }
    }

    @Test("allow_catalogue_mismatch: off by default, read from the file, set by the flag, written back")
    func allowCatalogueMismatch() throws {
        #expect(DaemonConfig().allowCatalogueMismatch == false)
        #expect(DaemonConfig().json["allow_catalogue_mismatch"] == .bool(false))
        var config = try DaemonConfig(json: JSONParser.parse(#"{"allow_catalogue_mismatch": true}"#))
        #expect(config.allowCatalogueMismatch && config.json["allow_catalogue_mismatch"] == .bool(true))
        #expect(try DaemonConfig(json: config.json) == config)
        try config.apply(ConfigOverrides())   // no flag: the file's value stays
        #expect(config.allowCatalogueMismatch)
        var off = DaemonConfig()
        var overrides = ConfigOverrides()
        overrides.allowCatalogueMismatch = true
        try off.apply(overrides)
        #expect(off.allowCatalogueMismatch)
    }

    @Test("the handler socket's flags set its own mode and lists, leaving the agent socket's alone")
    func handlerSocketOverrides() throws {
        var config = DaemonConfig()
        var overrides = ConfigOverrides(socketMode: "0600", allowedUIDs: [1000])
        overrides.handlerSocketMode = "0640"
        overrides.handlerAllowedUIDs = [998]
        overrides.handlerAllowedGIDs = [997]
        try config.apply(overrides)
        #expect(config.socketMode == 0o600 && config.allowedUIDs == [1000] && config.allowedGIDs == nil)
        #expect(config.handlerSocketMode == 0o640 && config.handlerAllowedUIDs == [998] && config.handlerAllowedGIDs == [997])
        var bad = ConfigOverrides()
        bad.handlerSocketMode = "rw"
        #expect(message { () throws(ConfigError) in try config.apply(bad) } == #"--handler-socket-mode: expected an octal mode like "0660", got "rw""#)
        var owners = ConfigOverrides()
        owners.toolOwners = ["support/track_order=1000,1001", "escalate=0"]
        try config.apply(owners)
        #expect(config.toolOwners == ["support/track_order": [1000, 1001], "escalate": [0]])
        for entry in ["track_order", "track_order=", "a/b/c=1", "track_order=1,x", "/t=1"] {
            var badOwner = ConfigOverrides()
            badOwner.toolOwners = [entry]
            #expect(message { () throws(ConfigError) in try config.apply(badOwner) }
                    == #"--tool-owner: expected TOOL=UID[,UID...] (TOOL is "catalogue/tool" or "tool"), got "# + "\"\(entry)\"")
        }
    }

    @Test func emptyOverridesChangeNothing() throws {
        var config = try DaemonConfig(json: JSONParser.parse(#"{"queue_depth": 9, "catalogues": [{"name": "a", "file": "/a"}]}"#))
        let before = config
        try config.apply(ConfigOverrides())
        #expect(config == before)
    }

    @Test func catalogueFlagReplacesFileEntryAndAdapterAttaches() throws {
        var config = try DaemonConfig(json: JSONParser.parse(#"{"catalogues": [{"name": "support", "file": "/old.json", "adapter": "/a1"}]}"#))
        try config.apply(ConfigOverrides(catalogues: ["support=/new.json", "devops=/d=1.json"], adapters: ["devops=/lora.gguf"]))
        #expect(config.catalogues == [CatalogueConfig(name: "support", file: "/new.json", adapter: "/a1"),
                                      CatalogueConfig(name: "devops", file: "/d=1.json", adapter: "/lora.gguf")])
    }

    static let overrideErrors: [(ConfigOverrides, String)] = [
        (ConfigOverrides(catalogues: ["support"]), #"--catalogue: expected NAME=FILE, got "support""#),
        (ConfigOverrides(catalogues: ["support="]), #"--catalogue: expected NAME=FILE, got "support=" (empty path)"#),
        (ConfigOverrides(catalogues: ["=/x.json"]), #"--catalogue: invalid catalogue name "" in "=/x.json": use 1 to 64 of A-Z a-z 0-9 _ -"#),
        (ConfigOverrides(catalogues: ["a b=/x.json"]), #"--catalogue: invalid catalogue name "a b" in "a b=/x.json": use 1 to 64 of A-Z a-z 0-9 _ -"#),
        (ConfigOverrides(catalogues: ["x=/1", "x=/2"]), #"--catalogue: catalogue "x" given twice"#),
        (ConfigOverrides(adapters: ["support=/l.gguf"]), #"--adapter: no catalogue named "support" (known: none)"#),
        (ConfigOverrides(catalogues: ["a=/a"], adapters: ["b=/l.gguf"]), #"--adapter: no catalogue named "b" (known: a)"#),
        (ConfigOverrides(catalogues: ["a=/a"], adapters: ["a"]), #"--adapter: expected NAME=PATH, got "a""#),
        (ConfigOverrides(agentSocket: ""), "--agent-socket: must not be empty"),
        (ConfigOverrides(handlerSocket: ""), "--handler-socket: must not be empty"),
        (ConfigOverrides(socketMode: "rw"), #"--socket-mode: expected an octal mode like "0660", got "rw""#),
        (ConfigOverrides(queueDepth: 0), "--queue-depth: must be between 1 and 100000, got 0"),
        (ConfigOverrides(defaultDeadlineMs: -1), "--default-deadline-ms: must be between 1 and 3600000, got -1"),
        (ConfigOverrides(handlerTimeoutMs: 0), "--handler-timeout-ms: must be between 1 and 3600000, got 0"),
        (ConfigOverrides(maxTokens: 40000), "--max-tokens: must be between 1 and 32768, got 40000"),
        (ConfigOverrides(maxMessageBytes: 10), "--max-message-bytes: must be between 1024 and 67108864, got 10"),
        (ConfigOverrides(contextTokens: 1), "--context-tokens: must be between 64 and 131072, got 1"),
        (ConfigOverrides(maxConnections: 0), "--max-connections: must be between 1 and 65536, got 0"),
        (ConfigOverrides(logLevel: "loud"), #"--log-level: expected one of trace, debug, info, notice, warning, error, critical, got "loud""#),
    ]

    @Test(arguments: overrideErrors)
    func overrideErrorsNameTheFlag(overrides: ConfigOverrides, expected: String) {
        var config = DaemonConfig()
        #expect(message { () throws(ConfigError) in try config.apply(overrides) } == expected)
    }
}

@Suite struct ConfigValidationTests {
    /// A config that passes validation; each test breaks one thing.
    private func valid() -> DaemonConfig {
        var config = DaemonConfig()
        config.catalogues = [CatalogueConfig(name: "support", file: supportFile), CatalogueConfig(name: "devops", file: devopsFile)]
        config.agentSocket = "/tmp/agent.sock"
        config.handlerSocket = "/tmp/handlers.sock"
        return config
    }

    @Test func validConfigPasses() throws {
        try valid().validate()
    }

    @Test func noCatalogue() {
        #expect(message { () throws(ConfigError) in try DaemonConfig().validate() }
            == "/catalogues: at least one catalogue is required (in the file or as --catalogue NAME=FILE), or an MCP server (mcp_servers)")
    }

    @Test func missingFilesNameFieldAndPath() throws {
        var config = valid()
        config.catalogues[1].file = "/nonexistent/devops.json"
        #expect(message { () throws(ConfigError) in try config.validate() } == #"/catalogues/1/file: no such file: "/nonexistent/devops.json""#)

        config = valid()
        config.catalogues[0].adapter = "/nonexistent/lora.gguf"
        #expect(message { () throws(ConfigError) in try config.validate() } == #"/catalogues/0/adapter: no such file or directory: "/nonexistent/lora.gguf""#)

        config = valid()
        config.model = "/nonexistent/model.gguf"
        #expect(message { () throws(ConfigError) in try config.validate() } == #"/model: no such file: "/nonexistent/model.gguf""#)

        config = valid()
        config.catalogues[0].file = "/tmp"
        #expect(message { () throws(ConfigError) in try config.validate() } == #"/catalogues/0/file: is a directory, not a file: "/tmp""#)
    }

    @Test("an adapter may be a PEFT directory, which must hold adapter_config.json and adapter_model.safetensors")
    func peftAdapterDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("peft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var config = valid()
        config.catalogues[0].adapter = directory.path
        #expect(message { () throws(ConfigError) in try config.validate() }
            == "/catalogues/0/adapter: PEFT adapter directory \"\(directory.path)\" has no readable adapter_config.json")
        try Data("{}".utf8).write(to: directory.appendingPathComponent("adapter_config.json"))
        #expect(message { () throws(ConfigError) in try config.validate() }
            == "/catalogues/0/adapter: PEFT adapter directory \"\(directory.path)\" has no readable adapter_model.safetensors")
        try Data().write(to: directory.appendingPathComponent("adapter_model.safetensors"))
        #expect(message { () throws(ConfigError) in try config.validate() } == nil)
    }

    @Test func socketPaths() {
        var config = valid()
        config.agentSocket = "/tmp/" + String(repeating: "a", count: 102) + ".sock"
        #expect(message { () throws(ConfigError) in try config.validate() }
            == "/agent_socket: socket path is 112 bytes; the limit is 107 (sun_path): \"\(config.agentSocket)\"")

        config = valid()
        config.agentSocket = "/tmp/" + String(repeating: "a", count: 102)
        #expect(message { () throws(ConfigError) in try config.validate() } == nil)

        config = valid()
        config.handlerSocket = ""
        #expect(message { () throws(ConfigError) in try config.validate() } == "/handler_socket: must not be empty")

        config = valid()
        config.handlerSocket = config.agentSocket
        #expect(message { () throws(ConfigError) in try config.validate() } == #"/handler_socket: must differ from agent_socket (both are "/tmp/agent.sock")"#)
    }

    @Test func duplicateNamesAndLimits() {
        var config = valid()
        config.catalogues[1].name = "support"
        #expect(message { () throws(ConfigError) in try config.validate() } == #"/catalogues/1/name: duplicate catalogue name "support""#)

        config = valid()
        config.maxTokens = 2048
        #expect(message { () throws(ConfigError) in try config.validate() } == "/max_tokens: must be less than context_tokens (2048), got 2048")

        config = valid()
        config.queueDepth = 0
        #expect(message { () throws(ConfigError) in try config.validate() } == "/queue_depth: must be between 1 and 100000, got 0")

        config = valid()
        config.socketMode = 0o4755
        #expect(message { () throws(ConfigError) in try config.validate() } == "/socket_mode: must be at most 0777, got 4755")

        config = valid()
        config.allowedUIDs = []
        #expect(message { () throws(ConfigError) in try config.validate() } == "/allowed_uids: must not be empty (omit it to allow anyone)")

        config = valid()
        config.handlerSocketMode = 0o1777
        #expect(message { () throws(ConfigError) in try config.validate() } == "/handler_socket_mode: must be at most 0777, got 1777")

        config = valid()
        config.handlerAllowedGIDs = []
        #expect(message { () throws(ConfigError) in try config.validate() } == "/handler_allowed_gids: must not be empty (omit it to allow anyone)")
    }
}
