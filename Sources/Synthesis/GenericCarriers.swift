// Carrier phrases made from the schema alone, for optional enum and integer arguments: ", eco mode",
// " in eco mode", ", mode: eco", " with volume 30". A user's few examples show one or two ways of
// stating an option ("…, eco mode"); a request that says "in heat mode" then reads as no option at
// all, and the adapter drops it. These phrases use no word the catalogue does not contain (the
// property's own name and its values), so they fit any catalogue; the examples' own carriers stay
// the majority (`Material.toolRow` picks these about one time in three).

import JSON

enum GenericCarriers {
    /// Clause patterns: `V` is the value's placeholder, `N` the property name in words.
    static let enumPatterns = [", V N", " in V N", ", N: V", " with N V", ", N V", " using V N"]
    static let numberPatterns = [", N V", " with N V", " at N V", ", N at V", ", N: V"]

    /// The carriers for optional `property` of `tool` (none for other kinds of schema).
    static func carriers(tool: String, property: String, schema: JSONValue) -> [Carrier] {
        let name = SlotText.words(ofIdentifier: property).joined(separator: " ")
        guard !name.isEmpty else { return [] }
        let path: [PathStep] = [.key(property)]
        let patterns: [String]
        let form: SurfaceForm
        let original: JSONValue
        if let values = schema["enum"]?.arrayValue, !values.isEmpty, values.allSatisfy({ $0.stringValue != nil }), let first = values.first {
            patterns = enumPatterns
            form = values.contains { $0.stringValue?.contains("_") ?? false } ? .spacedEnum(separator: " ", .asIs) : .text(.asIs)
            original = first
        } else if schema["type"]?.stringValue == "integer", schema["enum"] == nil {
            patterns = numberPatterns
            form = .number(.digits(fractionDigits: 0))
            let low = schema["minimum"]?.doubleValue ?? 1, high = schema["maximum"]?.doubleValue ?? max(low, 100)
            original = .number(JSONNumber(Int(((low + high) / 2).rounded(.down))))
        } else {
            return []
        }
        let slot = FrameSlot(path: path, poolKey: ArgumentLeaf.pointer(path, wildcardIndexes: true), propertyName: property,
                             topProperty: property, schema: schema, form: form, original: original)
        return patterns.map { pattern in
            var text: [Character] = []
            for c in pattern {
                switch c {
                case "V": text.append(Frame.placeholder(0))
                case "N": text += Array(name)
                default: text.append(c)
                }
            }
            return Carrier(tool: tool, property: property, text: text, slots: [slot], value: original, isSentence: false, range: 0..<0)
        }
    }
}
