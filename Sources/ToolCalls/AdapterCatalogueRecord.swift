// The record an adapter keeps of the catalogue it was trained on: the key `"catalogue"` of
// `train_info.json` in a PEFT adapter directory,
//
//   "catalogue": {"sha256": HEX, "tools": {"NAME": HEX, ...}}
//
// with the hashes of `CatalogueFingerprint` and the tools in catalogue order. `toolrouter train` writes
// it; `serve`, `eval` and reload read it. The rest of `train_info.json` belongs to the trainer and is
// kept as it is.

import Foundation
import JSON

/// What an adapter path says about the catalogue it was trained on.
public enum AdapterCatalogueLookup: Sendable, Equatable {
    /// The adapter records this fingerprint.
    case recorded(CatalogueFingerprint)
    /// The adapter records none, so its pairing cannot be checked; `reason` says why, for the warning.
    case unrecorded(reason: String)
}

/// Why an adapter's catalogue record could not be read or written.
public enum AdapterRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `train_info.json` exists but cannot be read, or cannot be written.
    case io(path: String, reason: String)
    /// `train_info.json` is not JSON.
    case invalidJSON(path: String, JSONParseError)
    /// A value in `train_info.json` has the wrong shape; `pointer` locates it.
    case invalidRecord(path: String, pointer: String, message: String)

    /// The file, the JSON pointer when there is one, and the problem.
    public var description: String {
        switch self {
        case .io(let path, let reason): return "\(path): \(reason)"
        case .invalidJSON(let path, let error): return "\(path): not valid JSON: \(error)"
        case .invalidRecord(let path, let pointer, let message): return "\(path): \(pointer.isEmpty ? "/" : pointer): \(message)"
        }
    }
}

/// Reads and writes the `"catalogue"` record of an adapter directory's `train_info.json`.
public enum AdapterCatalogueRecord {
    /// The file of a PEFT adapter directory that holds the record.
    public static let fileName = "train_info.json"
    /// The record's key in that file.
    public static let key = "catalogue"

    /// What the adapter at `adapterPath` (a PEFT directory or a GGUF file) records. No record is not an
    /// error (adapters trained before records existed have none); a record that is there but malformed
    /// is, so a damaged file cannot pass for "unchecked".
    public static func read(adapterPath: String) throws(AdapterRecordError) -> AdapterCatalogueLookup {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: adapterPath, isDirectory: &isDirectory) else {
            throw .io(path: adapterPath, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else { return .unrecorded(reason: "a GGUF adapter file carries no catalogue record") }
        let path = (adapterPath as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return .unrecorded(reason: "the adapter directory has no \(fileName)") }
        let info = try readObject(path)
        guard let value = info.first(where: { $0.key == key })?.value else {
            return .unrecorded(reason: "\(fileName) has no \"\(key)\" record")
        }
        if let name = value.stringValue {
            return .unrecorded(reason: "\(fileName) names the catalogue \(JSONWriter.quoted(name)) but records no hash of it")
        }
        return .recorded(try fingerprint(value, path: path))
    }

    /// Writes `fingerprint` as the `"catalogue"` member of `train_info.json` in `directory`: merged into
    /// the file when it exists (the member replaced where it stands, every other member kept in
    /// order), else a new file with that one member. One top-level member a line, so the file stays
    /// readable and diffs well; written to a temporary file and renamed, so a reader never sees half.
    public static func write(_ fingerprint: CatalogueFingerprint, adapterDirectory directory: String) throws(AdapterRecordError) {
        let path = (directory as NSString).appendingPathComponent(fileName)
        var members = try FileManager.default.fileExists(atPath: path) ? readObject(path) : []
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = json(fingerprint)
        } else {
            members.append((key: key, value: json(fingerprint)))
        }
        let lines = members.map { " " + JSONWriter.quoted($0.key) + ": " + JSONWriter.compact($0.value) }
        let text = "{\n" + lines.joined(separator: ",\n") + "\n}\n"
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .io(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// The record's JSON: `{"sha256": HEX, "tools": {"NAME": HEX, ...}}`, tools in catalogue order.
    public static func json(_ fingerprint: CatalogueFingerprint) -> JSONValue {
        .object([("sha256", .string(fingerprint.sha256)),
                 ("tools", .object(fingerprint.tools.map { (key: $0.name, value: .string($0.sha256)) }))])
    }

    /// Reads a record value. Members other than `sha256` and `tools` are allowed (a later trainer may
    /// add some); those two must be there, with hashes of 64 lowercase hex digits.
    static func fingerprint(_ value: JSONValue, path: String) throws(AdapterRecordError) -> CatalogueFingerprint {
        let pointer = "/" + key
        guard value.objectMembers != nil else {
            throw .invalidRecord(path: path, pointer: pointer, message: "expected an object {\"sha256\", \"tools\"}, found \(value.kindDescription)")
        }
        guard let sha256 = value["sha256"]?.stringValue, CatalogueFingerprint.isHexDigest(sha256) else {
            throw .invalidRecord(path: path, pointer: pointer + "/sha256", message: "expected 64 lowercase hex digits")
        }
        guard let tools = value["tools"]?.objectMembers else {
            throw .invalidRecord(path: path, pointer: pointer + "/tools", message: "expected an object of tool name → hash")
        }
        var fingerprints: [ToolFingerprint] = []
        for member in tools {
            guard let hash = member.value.stringValue, CatalogueFingerprint.isHexDigest(hash) else {
                throw .invalidRecord(path: path, pointer: JSONPointer.appending(pointer + "/tools", member.key),
                                     message: "expected 64 lowercase hex digits")
            }
            fingerprints.append(ToolFingerprint(name: member.key, sha256: hash))
        }
        return CatalogueFingerprint(sha256: sha256, tools: fingerprints)
    }

    /// The members of the JSON object in the file at `path`.
    private static func readObject(_ path: String) throws(AdapterRecordError) -> [(key: String, value: JSONValue)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let json: JSONValue
        do throws(JSONParseError) { json = try JSONParser.parse(bytes: data) } catch { throw .invalidJSON(path: path, error) }
        guard let members = json.objectMembers else {
            throw .invalidRecord(path: path, pointer: "", message: "expected an object, found \(json.kindDescription)")
        }
        return members
    }
}
