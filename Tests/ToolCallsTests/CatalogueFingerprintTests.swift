// Catalogue fingerprints: what changes the hash and what does not, the differences named tool by tool,
// and the `train_info.json` record that carries them.

import Foundation
import JSON
import Testing
@testable import ToolCalls

/// A catalogue from JSON text the test wrote.
private func catalogue(_ text: String) throws -> ToolCatalogue { try ToolCatalogue(json: json(text)) }

/// Two tools written compactly, keywords in one order.
private let compact = #"""
[{"type":"function","function":{"name":"lights","description":"Switch lights.","parameters":{"type":"object","properties":{"room":{"type":"string","maxLength":20},"on":{"type":"boolean"}},"required":["room","on"],"additionalProperties":false}}},{"type":"function","function":{"name":"thermostat","description":"Set the temperature.","parameters":{"type":"object","properties":{"celsius":{"type":"integer","minimum":5,"maximum":30}},"required":["celsius"]}}}]
"""#

/// The same two tools, indented, with every object's keys in another order and a member the router ignores.
private let reformatted = #"""
[
  {
    "function": {
      "parameters": {
        "additionalProperties": false,
        "required": ["room", "on"],
        "properties": {
          "room": { "maxLength": 20, "type": "string" },
          "on": { "type": "boolean" }
        },
        "type": "object"
      },
      "description": "Switch lights.",
      "name": "lights"
    },
    "type": "function",
    "strict": true
  },
  {
    "type": "function",
    "function": {
      "name": "thermostat",
      "parameters": { "required": ["celsius"], "properties": { "celsius": { "maximum": 30, "minimum": 5, "type": "integer" } }, "type": "object" },
      "description": "Set the temperature."
    }
  }
]
"""#

/// A scratch directory for record files.
private func scratchDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "fingerprint-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct CatalogueFingerprintTests {
    @Test("whitespace, keyword order and members the router ignores do not change any hash")
    func stableUnderFormatting() throws {
        let a = CatalogueFingerprint(catalogue: try catalogue(compact))
        let b = CatalogueFingerprint(catalogue: try catalogue(reformatted))
        #expect(a == b)
        #expect(a.tools.map(\.name) == ["lights", "thermostat"])
        #expect(CatalogueFingerprint.isHexDigest(a.sha256) && a.tools.allSatisfy { CatalogueFingerprint.isHexDigest($0.sha256) })
        #expect(a.mismatch(trained: b) == nil)
    }

    @Test("the hashes are SHA-256 of the documented canonical text (values computed independently, in Python)")
    func pinnedValues() throws {
        let support = CatalogueFingerprint(catalogue: try supportCatalogue())
        #expect(support.sha256 == "1f9d88ecc89e27c29fb9e53443b3e75874c334e69d36ca12d8e557b7716558ad")
        #expect(support.tools == [
            ToolFingerprint(name: "track_order", sha256: "7376f54bb85b9006da5308fb11a38d38d29bb1e0b05a80fe839fb1a599bed4a6"),
            ToolFingerprint(name: "request_refund", sha256: "f55a77c5ff357db8b6bad072009cbfaf0c94167144981d241db58e0605e3817c"),
            ToolFingerprint(name: "update_address", sha256: "9282e303c8c0b4a087d6d77ff85e9a841581a787abb440f4a24db79285f63f2a"),
            ToolFingerprint(name: "escalate", sha256: "391f6b7591b756c0d12401685cfa8ae0cb18b47d6fd08830c5b3475da8c8041a"),
        ])
        let lights = try #require(try catalogue(reformatted).tool(named: "lights"))
        #expect(CatalogueFingerprint.canonicalText(of: lights) == #"{"description":"Switch lights.","name":"lights","parameters":{"#
                + #""additionalProperties":false,"properties":{"room":{"maxLength":20,"type":"string"},"on":{"type":"boolean"}},"#
                + #""required":["room","on"],"type":"object"}}"#)
    }

    /// Edits of the compact catalogue, each of which changes what the model sees or the grammar allows,
    /// and the tool whose hash must change with it.
    static let edits: [(label: String, from: String, to: String, tool: String)] = [
        ("description", "Switch lights.", "Switch the lights.", "lights"),
        ("a schema value", #""maximum":30"#, #""maximum":31"#, "thermostat"),
        ("a keyword added", #""maxLength":20"#, #""maxLength":20,"pattern":"^[a-z]+$""#, "lights"),
        ("a required list", #""required":["room","on"]"#, #""required":["room"]"#, "lights"),
        ("the order of properties", #""room":{"type":"string","maxLength":20},"on":{"type":"boolean"}"#,
         #""on":{"type":"boolean"},"room":{"type":"string","maxLength":20}"#, "lights"),
        ("a property renamed", #""celsius":{"#, #""degrees":{"#, "thermostat"),
    ]

    @Test("any change to a tool's description or schema changes its hash and the catalogue's, and no other tool's",
          arguments: edits.indices)
    func sensitiveToContent(_ index: Int) throws {
        let edit = Self.edits[index]
        var text = compact.replacingOccurrences(of: edit.from, with: edit.to)
        if edit.label == "a property renamed" { text = text.replacingOccurrences(of: #"["celsius"]"#, with: #"["degrees"]"#) }
        #expect(text != compact, "\(edit.label): the edit did not apply")
        let before = CatalogueFingerprint(catalogue: try catalogue(compact))
        let after = CatalogueFingerprint(catalogue: try catalogue(text))
        #expect(before.sha256 != after.sha256, "\(edit.label)")
        for (old, new) in zip(before.tools, after.tools) {
            #expect((old.sha256 != new.sha256) == (old.name == edit.tool), "\(edit.label): \(old.name)")
        }
        let mismatch = try #require(after.mismatch(trained: before))
        #expect(mismatch.changed == [edit.tool] && mismatch.added.isEmpty && mismatch.missing.isEmpty)
        #expect(mismatch.description == "schema or description changed: \(edit.tool)")
    }

    @Test("a property named properties is a schema like any other: its keywords' order does not count")
    func propertyNamedProperties() throws {
        func tool(_ inner: String) -> String {
            #"[{"type":"function","function":{"name":"t","parameters":{"type":"object","properties":{"properties":"# + inner + "}}}}]"
        }
        let a = CatalogueFingerprint(catalogue: try catalogue(tool(#"{"type":"string","maxLength":3}"#)))
        let b = CatalogueFingerprint(catalogue: try catalogue(tool(#"{"maxLength":3,"type":"string"}"#)))
        #expect(a == b)
    }

    @Test("reordering the tools changes the catalogue's hash only, and the mismatch says so")
    func toolOrder() throws {
        let tools = try catalogue(compact).tools
        let swapped = try ToolCatalogue(json: .array(tools.reversed().map { tool in
            .object([("type", .string("function")), ("function", .object([("name", .string(tool.name)),
                     ("description", .string(tool.description)), ("parameters", tool.parameters)]))])
        }))
        let trained = CatalogueFingerprint(catalogue: try catalogue(compact))
        let serving = CatalogueFingerprint(catalogue: swapped)
        #expect(serving.sha256 != trained.sha256)
        #expect(Set(serving.tools.map(\.sha256)) == Set(trained.tools.map(\.sha256)))
        let mismatch = try #require(serving.mismatch(trained: trained))
        #expect(mismatch.description.hasPrefix("the same tools, listed in another order"))
        #expect(mismatch.description.contains("trained on lights, thermostat; the catalogue has thermostat, lights"))
    }

    @Test("the mismatch names the tools added, missing and changed")
    func mismatchNamesTools() throws {
        let trained = CatalogueFingerprint(catalogue: try supportCatalogue())
        let other = try catalogue(compact)
        var tools = try supportCatalogue().tools.filter { $0.name != "escalate" }
        tools[0] = ToolDefinition(name: tools[0].name, description: tools[0].description + " Now with tracking links.",
                                  parameters: tools[0].parameters)
        tools.append(contentsOf: other.tools)
        let serving = CatalogueFingerprint(catalogue: try ToolCatalogue(json: .array(tools.map { tool in
            .object([("type", .string("function")), ("function", .object([("name", .string(tool.name)),
                     ("description", .string(tool.description)), ("parameters", tool.parameters)]))])
        })))
        let mismatch = try #require(serving.mismatch(trained: trained))
        #expect(mismatch.added == ["lights", "thermostat"])
        #expect(mismatch.missing == ["escalate"])
        #expect(mismatch.changed == ["track_order"])
        #expect(mismatch.description == "added in the catalogue: lights, thermostat; missing from the catalogue: escalate; "
                + "schema or description changed: track_order")
    }
}

@Suite struct AdapterCatalogueRecordTests {
    @Test("the record merges into an existing train_info.json, keeping its other members, and reads back")
    func writeMergesAndReadsBack() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/train_info.json"
        try #"{"catalogue": "support", "rows": 2000, "init": {"catalogue": "support"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir)
                == .unrecorded(reason: #"train_info.json names the catalogue "support" but records no hash of it"#))

        let fingerprint = CatalogueFingerprint(catalogue: try supportCatalogue())
        try AdapterCatalogueRecord.write(fingerprint, adapterDirectory: dir)
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir) == .recorded(fingerprint))
        let info = try JSONParser.parse(try String(contentsOfFile: path, encoding: .utf8))
        #expect(info.objectMembers?.map(\.key) == ["catalogue", "rows", "init"])
        #expect(info["rows"] == .number(JSONNumber(2000)) && info["init"]?["catalogue"] == .string("support"))
        #expect(info["catalogue"]?["sha256"] == .string(fingerprint.sha256))
        #expect(info["catalogue"]?["tools"]?.objectMembers?.map(\.key) == ["track_order", "request_refund", "update_address", "escalate"])

        // Writing again replaces the record in place.
        let other = CatalogueFingerprint(catalogue: try devopsCatalogue())
        try AdapterCatalogueRecord.write(other, adapterDirectory: dir)
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir) == .recorded(other))
        #expect(try JSONParser.parse(try String(contentsOfFile: path, encoding: .utf8)).objectMembers?.map(\.key) == ["catalogue", "rows", "init"])
    }

    @Test("a directory without train_info.json gets one holding only the record")
    func writeCreates() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir) == .unrecorded(reason: "the adapter directory has no train_info.json"))
        let fingerprint = CatalogueFingerprint(catalogue: try devopsCatalogue())
        try AdapterCatalogueRecord.write(fingerprint, adapterDirectory: dir)
        let info = try JSONParser.parse(try String(contentsOfFile: dir + "/train_info.json", encoding: .utf8))
        #expect(info.objectMembers?.map(\.key) == ["catalogue"])
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir) == .recorded(fingerprint))
    }

    @Test("GGUF adapter files and train_info.json without the key are unrecorded, not errors; a path that is not there is one")
    func unrecorded() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("GGUF".utf8).write(to: URL(fileURLWithPath: dir + "/adapter.gguf"))
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir + "/adapter.gguf")
                == .unrecorded(reason: "a GGUF adapter file carries no catalogue record"))
        #expect(throws: AdapterRecordError.io(path: dir + "/none", reason: "no such file or directory")) {
            try AdapterCatalogueRecord.read(adapterPath: dir + "/none")
        }
        try #"{"rows": 5}"#.write(toFile: dir + "/train_info.json", atomically: true, encoding: .utf8)
        #expect(try AdapterCatalogueRecord.read(adapterPath: dir) == .unrecorded(reason: #"train_info.json has no "catalogue" record"#))
    }

    static let malformed: [(text: String, message: String)] = [
        (#"{"catalogue": 3}"#, #"/catalogue: expected an object {"sha256", "tools"}, found number 3"#),
        (#"{"catalogue": {"tools": {}}}"#, "/catalogue/sha256: expected 64 lowercase hex digits"),
        (#"{"catalogue": {"sha256": "ABC", "tools": {}}}"#, "/catalogue/sha256: expected 64 lowercase hex digits"),
        (#"{"catalogue": {"sha256": "\#(String(repeating: "a", count: 64))"}}"#, "/catalogue/tools: expected an object of tool name → hash"),
        (#"{"catalogue": {"sha256": "\#(String(repeating: "a", count: 64))", "tools": {"a/b": 1}}}"#,
         "/catalogue/tools/a~1b: expected 64 lowercase hex digits"),
        (#"[1]"#, "/: expected an object, found an array"),
    ]

    @Test("a malformed record is an error naming the file and the JSON pointer", arguments: malformed.indices)
    func malformedRecord(_ index: Int) throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/train_info.json"
        try Self.malformed[index].text.write(toFile: path, atomically: true, encoding: .utf8)
        do throws(AdapterRecordError) {
            let lookup = try AdapterCatalogueRecord.read(adapterPath: dir)
            Issue.record("read \(lookup)")
        } catch {
            #expect(error.description == "\(path): \(Self.malformed[index].message)")
        }
    }
}
