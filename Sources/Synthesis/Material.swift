// Everything a run draws from, prepared once from the catalogue and the examples (in catalogue and
// line order, so preparation is as deterministic as the draws): frames per tool, value pools per
// schema place, carriers per optional argument, slot-free sentences per tool, cut variants for
// no_tool, the examples' own no_tool rows and the filtered generic pool. It also makes rows.

import JSON
import ToolCalls

struct Material {
    let catalogue: ToolCatalogue
    var frames: [String: [Frame]] = [:]
    var pools: [String: ValuePool] = [:]
    /// Carriers by tool and property (key: tool, U+0001, property): the examples' own, and `GenericCarriers`'.
    var carriers: [String: [Carrier]] = [:]
    var genericCarriers: [String: [Carrier]] = [:]
    var optionalProperties: [String: [String]] = [:]
    var sentences: [String: [[Character]]] = [:]
    var cutVariants: [(frame: Frame, property: String)] = []
    var ownNoTool: [(prompt: String, reason: String)] = []
    var poolLines: [(text: String, reason: String)] = []
    var baseReport = SynthesisReport()
    let noise = NoiseSettings()
    let quietNoise = NoiseSettings(opener: 0.1, closer: 0.1, context: 0, polite: 0, lowercase: 0.15, typos: 0.12,
                                   typoPerWord: 0.08, dropFinal: 0.15, exclaim: 0.03)

    init(catalogue: ToolCatalogue, examples: ExampleSet, random: inout SynthRandom) {
        self.catalogue = catalogue
        // String values by property name (see `siblingKey`), in line order: refills for same-named properties.
        var siblings: [String: [JSONValue]] = [:]
        for example in examples.examples {
            for leaf in example.leaves where leaf.value.stringValue != nil {
                siblings[Self.siblingKey(leaf.propertyName), default: []].append(leaf.value)
            }
            baseReport.slots.append(.init(line: example.line, tool: example.call.toolName, found: example.analysis.slots.count,
                                          implied: example.analysis.implied.count,
                                          notFound: example.analysis.missing.map { example.leaves[$0].pointer }))
            if case .noTool(let reason) = example.call { ownNoTool.append((example.prompt, reason)) }
            guard let frame = Frame(example: example) else { continue }
            frames[frame.tool, default: []].append(frame)
            if example.analysis.implied.isEmpty && example.analysis.missing.isEmpty {
                sentences[frame.tool, default: []] += Self.slotFreeSentences(frame.text)
            }
        }
        for tool in catalogue.tools {
            // A clause of another tool's request would carry that tool's intent into this one's rows.
            let clauses = Self.clauses(frames: frames[tool.name] ?? []) + GenericText.clauses
            let required = ArgumentLeaves.required(tool.parameters)
            let properties = tool.parameters["properties"]?.objectMembers?.map(\.key) ?? []
            optionalProperties[tool.name] = properties.filter { !required.contains($0) }
            for frame in frames[tool.name] ?? [] {
                for slot in frame.slots {
                    let key = tool.name + "\u{1}" + slot.poolKey
                    guard pools[key] == nil else { continue }
                    let sameKey = (frames[tool.name] ?? []).flatMap { f in f.slots.filter { $0.poolKey == slot.poolKey }.map(\.original) }
                    pools[key] = ValuePool(schema: slot.schema, propertyName: slot.propertyName, exampleValues: sameKey,
                                           siblingValues: siblings[Self.siblingKey(slot.propertyName)] ?? [], clauses: clauses,
                                           random: &random)
                }
                for property in frame.presentProperties {
                    let leafCount = ArgumentLeaves.leaves(of: frame.arguments, schema: tool.parameters).filter { $0.topProperty == property }.count
                    guard frame.isFullySlotted(property, leafCount: leafCount) else { continue }
                    if required.contains(property) {
                        if let cut = FrameEditing.cutRequired(property, from: frame) { cutVariants.append((cut, property)) }
                    } else if let carrier = FrameEditing.carrier(of: property, in: frame) {
                        carriers[tool.name + "\u{1}" + property, default: []].append(carrier)
                    }
                }
            }
        }
        for tool in catalogue.tools {
            for property in optionalProperties[tool.name] ?? [] {
                guard let schema = tool.parameters["properties"]?[property] else { continue }
                let made = GenericCarriers.carriers(tool: tool.name, property: property, schema: schema)
                guard let slot = made.first?.slots.first else { continue }
                genericCarriers[tool.name + "\u{1}" + property] = made
                let key = tool.name + "\u{1}" + slot.poolKey
                if pools[key] == nil {
                    pools[key] = ValuePool(schema: schema, propertyName: property, exampleValues: [], siblingValues: [], random: &random)
                }
            }
        }
        poolLines = NoToolPool.lines(for: catalogue)
        baseReport.poolLinesKept = poolLines.count
    }

    /// Properties whose values may stand in for each other: the same name, singular or plural ("room", "rooms").
    static func siblingKey(_ name: String) -> String {
        name.count > 3 && name.hasSuffix("s") ? String(name.dropLast()) : name
    }

    /// Clauses of the examples' text that hold no slot: 4 to 12 words between punctuation marks.
    static func clauses(frames: [Frame]) -> [String] {
        var out: [String] = []
        for frame in frames {
            // Only whole clauses: a piece cut off by a slot ("I'd like a refund for") is no free text.
            for piece in frame.text.split(whereSeparator: { ".,;:!?—()".contains($0) }) where !piece.contains(where: { Frame.slotIndex($0) != nil }) {
                let words = piece.split(separator: " ")
                guard (4...12).contains(words.count) else { continue }
                var clause: String = words.map { String($0) }.joined(separator: " ")
                if let first = clause.first, first.isUppercase, !clause.hasPrefix("I ") { clause = first.lowercased() + clause.dropFirst() }
                out.append(clause)
            }
        }
        return out
    }

    /// Sentences of `text` with no placeholder and at least two words (never the whole text).
    static func slotFreeSentences(_ text: [Character]) -> [[Character]] {
        var out: [[Character]] = []
        var current: [Character] = []
        for (i, c) in text.enumerated() {
            current.append(c)
            let atEnd = i == text.count - 1 || (FrameEditing.sentenceEnds.contains(c) && text[i + 1] == " ")
            guard atEnd else { continue }
            let sentence = FrameEditing.tidy(current)
            if sentence.count < text.count - 1, !sentence.contains(where: { Frame.slotIndex($0) != nil }),
               FrameEditing.wordCount(sentence) >= 2, let last = sentence.last, FrameEditing.sentenceEnds.contains(last) {
                out.append(sentence)
            }
            current = []
        }
        return out
    }

    // MARK: Rows

    mutating func toolRow(_ tool: String, options: SynthesisOptions, random: inout SynthRandom) -> SynthesisRow? {
        let wants = (optionalProperties[tool] ?? []).map { ($0, random.chance(options.optionalPresence)) }
        // A frame whose wording implies an optional value (or states it in a clause shared with another
        // argument) cannot lose it, and one may lack it with no carrier to add it: of a few frames drawn,
        // take the first that can honour the most decisions, so such frames do not skew the balance.
        var best: (frame: Frame, score: Int)?
        for _ in 0..<6 {
            guard let candidate = random.pick(frames[tool] ?? []) else { return nil }
            let score = wants.filter { canHonour($0.1, property: $0.0, in: candidate) }.count
            if score > (best?.score ?? -1) { best = (candidate, score) }
            if score == wants.count { break }
        }
        guard var frame = best?.frame else { return nil }
        for (property, want) in wants {
            let has = frame.arguments[property] != nil
            if has && !want, let carrier = FrameEditing.carrier(of: property, in: frame) {
                frame = FrameEditing.cut(carrier, from: frame)
            } else if !has && want, let carrier = pickCarrier(tool: tool, property: property, random: &random) {
                frame = FrameEditing.insert(carrier, into: frame, atStart: carrier.isSentence && random.chance(0.4))
            }
        }
        let text = Noise.dress(frame.text, sentences: sentences[tool] ?? [], settings: noise, random: &random)
        guard let (prompt, arguments) = fill(frame, text: text, random: &random) else { return nil }
        let call = ToolCall.tool(name: tool, arguments: arguments).inSchemaOrder(catalogue: catalogue)
        return SynthesisRow(prompt: prompt, call: call, source: "tool")
    }

    /// A carrier for `property`: the examples' own, or a generic one about one time in three (always when
    /// the examples have none).
    func pickCarrier(tool: String, property: String, random: inout SynthRandom) -> Carrier? {
        let own = carriers[tool + "\u{1}" + property] ?? [], generic = genericCarriers[tool + "\u{1}" + property] ?? []
        return random.pick(own.isEmpty || random.chance(0.35) ? (generic.isEmpty ? own : generic) : own)
    }

    /// Whether `frame` can be made to state (`want`) or not state optional `property`.
    func canHonour(_ want: Bool, property: String, in frame: Frame) -> Bool {
        let has = frame.arguments[property] != nil
        if want { return has || !(carriers[frame.tool + "\u{1}" + property] ?? []).isEmpty || !(genericCarriers[frame.tool + "\u{1}" + property] ?? []).isEmpty }
        return !has || FrameEditing.carrier(of: property, in: frame) != nil
    }

    mutating func noToolRow(random: inout SynthRandom) -> SynthesisRow? {
        var sources: [(String, Double)] = []
        // Cut variants weigh most: "turn the lights on" (which room?) is the no_tool a router meets most
        // and the hardest to tell from a call, since it reads like one.
        if !ownNoTool.isEmpty { sources.append(("examples", 0.25)) }
        if !cutVariants.isEmpty { sources.append(("cut", 0.45)) }
        if !poolLines.isEmpty { sources.append(("pool", 0.3)) }
        var roll = random.unit() * sources.reduce(0) { $0 + $1.1 }
        var source = sources.last?.0 ?? ""
        for (name, weight) in sources { if roll < weight { source = name; break }; roll -= weight }
        switch source {
        case "examples":
            guard let own = random.pick(ownNoTool) else { return nil }
            let text = Noise.dress(Array(own.prompt), sentences: [], settings: quietNoise, random: &random)
            return SynthesisRow(prompt: String(text), call: .noTool(reason: own.reason), source: "no_tool:examples")
        case "cut":
            guard let variant = random.pick(cutVariants) else { return nil }
            let text = Noise.dress(variant.frame.text, sentences: [], settings: quietNoise, random: &random)
            guard let (prompt, _) = fill(variant.frame, text: text, random: &random) else { return nil }
            return SynthesisRow(prompt: prompt, call: .noTool(reason: "missing " + variant.property), source: "no_tool:cut")
        default:
            guard let line = random.pick(poolLines) else { return nil }
            let text = Noise.dress(Array(line.text), sentences: [], settings: quietNoise, random: &random)
            return SynthesisRow(prompt: String(text), call: .noTool(reason: line.reason), source: "no_tool:pool")
        }
    }

    /// Whether a plural-looking word ("replicas", "days") directly follows the first `placeholder` in `text`.
    static func pluralFollows(_ placeholder: Character, in text: [Character]) -> Bool {
        guard let at = text.firstIndex(of: placeholder), at + 1 < text.count, text[at + 1] == " " else { return false }
        let word = text[(at + 2)...].prefix { $0.isLetter }
        return word.count > 3 && word.last == "s"
    }

    /// `text` with every placeholder written out, and `frame`'s arguments with the same values.
    func fill(_ frame: Frame, text: [Character], random: inout SynthRandom) -> (String, JSONValue)? {
        var arguments = frame.arguments
        var surfaces: [Int: String] = [:]
        var used: [String: Set<String>] = [:]
        for (index, slot) in frame.slots.enumerated() where text.contains(Frame.placeholder(index)) {
            let pool = pools[frame.tool + "\u{1}" + slot.poolKey]
            var chosen: (JSONValue, String)?
            let plural = Self.pluralFollows(Frame.placeholder(index), in: text) && slot.original.doubleValue != 1
            let form = slot.form.varied(&random)
            for _ in 0..<6 {
                guard let value = pool?.draw(for: form, random: &random), let surface = form.render(value) else { continue }
                if plural && value.doubleValue == 1 { continue }   // no "1 replicas"
                if used[slot.poolKey]?.contains(surface) ?? false { continue }
                chosen = (value, surface)
                break
            }
            guard let (value, surface) = chosen ?? slot.form.render(slot.original).map({ (slot.original, $0) }) else { return nil }
            used[slot.poolKey, default: []].insert(surface)
            arguments = ArgumentLeaves.replacing(arguments, at: slot.path[...], with: value)
            surfaces[index] = surface
        }
        var out = ""
        for c in text {
            if let index = Frame.slotIndex(c) {
                guard let surface = surfaces[index] else { return nil }
                out += surface
            } else {
                out.append(c)
            }
        }
        return (out, arguments)
    }
}
