// `toolrouter inspect MODEL`: metadata and tensor summary.
//
// Every tensor type of current GGUF files parses, including ones the engine cannot compute with
// (i-quants, MXFP4, ...); inspect lists those instead of failing, so a user can see why a model
// would not load.

import ArgumentParser
import GGUF
import Inference

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print a GGUF file's metadata and tensor summary.")

    @Argument(help: "Path to a .gguf file (default: the model installed by scripts/setup).")
    var model: String?

    @Flag(help: "List every tensor, not only a summary by type.")
    var tensors = false

    func run() throws {
        let path = try ModelLocator.resolve(model)
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
        print("file: \(path)")
        print("GGUF version \(file.version), \(file.metadataKeys.count) metadata keys, \(file.tensors.count) tensors, alignment \(file.alignment)")
        print("\nmetadata:")
        for key in file.metadataKeys {
            guard let value = file[key] else { continue }
            print("  \(key) = \(summary(of: value))")
        }
        var byType: [String: (count: Int, elements: Int, bytes: Int)] = [:]
        for t in file.tensors {
            let old = byType[t.type.name] ?? (0, 0, 0)
            byType[t.type.name] = (old.count + 1, old.elements + t.elementCount, old.bytes + t.byteCount)
        }
        print("\ntensors by type:")
        for (name, s) in byType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            print("  \(name): \(s.count) tensors, \(s.elements) weights, \(s.bytes) bytes")
        }
        let unsupported = file.tensors.filter { !WeightMatrix.canCompute($0.type) }
        if unsupported.isEmpty {
            print("\nevery tensor type is supported by the engine")
        } else {
            let names = Set(unsupported.map(\.type.name)).sorted().joined(separator: ", ")
            print("\n\(unsupported.count) tensors have types the engine cannot compute (\(names)); the model will not load:")
            for t in unsupported.prefix(tensors ? unsupported.count : 20) { print("  \(t.name) \(t.type.name) \(t.dims)") }
            if !tensors && unsupported.count > 20 { print("  ... (\(unsupported.count - 20) more; --tensors lists all)") }
        }
        if tensors {
            print("\ntensors:")
            for t in file.tensors { print("  \(t.name) \(t.type.name) \(t.dims) @\(t.offset)") }
        }
    }

    /// One line for a metadata value; long arrays are abbreviated.
    private func summary(of value: GGUFValue) -> String {
        switch value {
        case .string(let s): return s.count > 120 ? "\"\(s.prefix(117).debugDescription.dropFirst().dropLast())...\" (\(s.count) chars)" : s.debugDescription
        case .array(let items):
            let head = items.prefix(5).map(summary(of:)).joined(separator: ", ")
            return items.count > 5 ? "[\(head), ...] (\(items.count) items)" : "[\(head)]"
        default:
            if let i = value.intValue { return String(i) }
            if let f = value.floatValue { return String(f) }
            return "\(value)"
        }
    }
}
