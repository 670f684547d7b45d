// Sentence frames and carrier phrases: how the generator varies wording without templates.
//
// A *frame* is an example's prompt with each slot replaced by a placeholder character (one
// private-use scalar per slot, U+E000 + index), plus the example's arguments. Refilling a frame
// draws a fresh value for every placeholder and writes it in the slot's surface form; the
// arguments get the same values at the same paths, so prompt and call cannot disagree. Leaves the
// wording implies (booleans, unwritten enum values) or that were never found stay as in the example.
// Text operations (noise, cutting, inserting) see placeholders as opaque characters, so a typo or a
// case change can never land inside a value.
//
// A *carrier* is the phrase that states an optional argument: the clause around its slot(s), from
// the previous clause boundary (", ", "; ", " — ", ": ") to the next one, or a whole sentence when
// no clause boundary precedes the slot in its sentence. A clause that also holds another
// argument's slot is no carrier (moving it would move that argument too). Mined from the examples of a tool, carriers balance optional arguments:
// inserted into a frame that lacks the argument (before its final punctuation, or as a sentence of
// its own) and cut from a frame that has it, so each optional argument is present exactly when its
// slot is in the text, in about half the rows, whatever the examples' own ratio.
//
// A *cut variant* removes a required argument's slot (and a directly attached word such as "for",
// "order" or "#") from a frame: the request no longer says which order or service, so it is a
// no_tool row with the reason "missing NAME".

import JSON

/// One placeholder of a frame.
struct FrameSlot: Sendable {
    var path: [PathStep]
    var poolKey: String
    var propertyName: String
    var topProperty: String
    var schema: JSONValue
    var form: SurfaceForm
    /// The value the example had (the fallback when no fresh value can be written in the form).
    var original: JSONValue
}

/// A prompt with placeholders, and the call it states.
struct Frame: Sendable {
    var tool: String
    var text: [Character]
    var slots: [FrameSlot]
    var arguments: JSONValue
    /// The example line it came from (for the report).
    var line: Int

    static let placeholderBase: UInt32 = 0xE000

    static func placeholder(_ index: Int) -> Character { Character(Unicode.Scalar(placeholderBase + UInt32(index)) ?? "\u{E000}") }

    /// The slot index of a placeholder character, or nil for ordinary text.
    static func slotIndex(_ c: Character) -> Int? {
        guard let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1,
              scalar.value >= placeholderBase, scalar.value < placeholderBase + 0x1000 else { return nil }
        return Int(scalar.value - placeholderBase)
    }

    /// The frame of a tool example (nil for no_tool, or a prompt with private-use characters).
    init?(example: Example) {
        guard case .tool(let name, let arguments) = example.call else { return nil }
        let prompt = Array(example.prompt)
        // A prompt that already holds placeholder characters (private use) cannot be a frame.
        guard !prompt.contains(where: { Self.slotIndex($0) != nil }) else { return nil }
        var marks: [(span: Range<Int>, slot: Int)] = []
        var slots: [FrameSlot] = []
        for slot in example.analysis.slots {
            let leaf = example.leaves[slot.leaf]
            for span in slot.spans { marks.append((span, slots.count)) }
            slots.append(FrameSlot(path: leaf.path, poolKey: leaf.poolKey, propertyName: leaf.propertyName, topProperty: leaf.topProperty,
                                   schema: leaf.schema, form: slot.form, original: leaf.value))
        }
        marks.sort { $0.span.lowerBound < $1.span.lowerBound }
        var text: [Character] = []
        var cursor = 0
        for mark in marks {
            text += prompt[cursor..<mark.span.lowerBound]
            text.append(Self.placeholder(mark.slot))
            cursor = mark.span.upperBound
        }
        text += prompt[cursor...]
        self.init(tool: name, text: text, slots: slots, arguments: arguments, line: example.line)
    }

    init(tool: String, text: [Character], slots: [FrameSlot], arguments: JSONValue, line: Int) {
        self.tool = tool; self.text = text; self.slots = slots; self.arguments = arguments; self.line = line
    }

    /// Top-level properties present in the arguments.
    var presentProperties: [String] { arguments.objectMembers?.map(\.key) ?? [] }

    /// Whether every leaf of `property` is a slot that appears in the text (so it can be cut or carried).
    func isFullySlotted(_ property: String, leafCount: Int) -> Bool {
        let indexes = slots.indices.filter { slots[$0].topProperty == property }
        return indexes.count == leafCount && indexes.allSatisfy { i in text.contains(Self.placeholder(i)) }
    }

    /// Offsets in `text` of the placeholders of `property`.
    func positions(of property: String) -> [Int] {
        text.indices.filter { i in Self.slotIndex(text[i]).map { slots[$0].topProperty == property } ?? false }
    }
}

/// A phrase stating one optional argument, movable between frames of a tool.
struct Carrier: Sendable {
    var tool: String
    var property: String
    /// The phrase with placeholders numbered from 0 within `slots`.
    var text: [Character]
    var slots: [FrameSlot]
    /// The argument's value in the example it came from.
    var value: JSONValue
    /// A sentence of its own (else a clause that attaches with its leading punctuation).
    var isSentence: Bool
    /// Where the phrase sat in the frame, for cutting it.
    var range: Range<Int>
}

enum FrameEditing {
    static let clauseMarks: [String] = [", ", "; ", " — ", " – ", " - ", ": ", " ("]
    static let sentenceEnds: Set<Character> = [".", "!", "?"]

    /// The carrier of optional `property` in `frame`, or nil when its slots share a clause with another argument.
    static func carrier(of property: String, in frame: Frame) -> Carrier? {
        let positions = frame.positions(of: property)
        guard let first = positions.first, let last = positions.last else { return nil }
        let text = frame.text
        // Left: back to the nearest clause mark or sentence start, with no other slot on the way.
        var left = first, isSentence = false
        while true {
            if left == 0 { isSentence = true; break }
            if sentenceEnds.contains(text[left - 1]) || (left >= 2 && text[left - 1] == " " && sentenceEnds.contains(text[left - 2])) {
                isSentence = true; break
            }
            if let mark = clauseMarks.first(where: { matches(text, $0, endingAt: left) }) { left -= mark.count; break }
            if Frame.slotIndex(text[left - 1]) != nil { return nil }
            left -= 1
        }
        // Right: on to the next clause mark or sentence end; another slot first → stop after our last slot.
        var right = last + 1
        while right < text.count {
            let c = text[right]
            if sentenceEnds.contains(c) || c == "," || c == ";" || c == ":" || c == ")" || matches(text, " — ", endingAt: right + 3) || matches(text, " - ", endingAt: right + 3) { break }
            // Another argument's slot before any boundary: the phrase cannot be moved without it.
            if let other = Frame.slotIndex(c), frame.slots[other].topProperty != property { return nil }
            right += 1
        }
        for i in left..<right { if let s = Frame.slotIndex(text[i]), frame.slots[s].topProperty != property { return nil } }
        if isSentence {   // take the sentence's end mark and the space after it along
            while right < text.count, sentenceEnds.contains(text[right]) { right += 1 }
            if right < text.count, text[right] == " " { right += 1 }
        }
        let remainder = Array(text[..<left]) + Array(text[right...])
        guard wordCount(remainder) >= 2, let value = frame.arguments[property] else { return nil }
        // Renumber the carrier's placeholders from 0.
        var mapping: [Int: Int] = [:]
        var slots: [FrameSlot] = []
        var phrase: [Character] = []
        for c in text[left..<right] {
            if let s = Frame.slotIndex(c) {
                if mapping[s] == nil { mapping[s] = slots.count; slots.append(frame.slots[s]) }
                phrase.append(Frame.placeholder(mapping[s] ?? 0))
            } else { phrase.append(c) }
        }
        return Carrier(tool: frame.tool, property: property, text: phrase, slots: slots, value: value, isSentence: isSentence, range: left..<right)
    }

    static func matches(_ text: [Character], _ mark: String, endingAt end: Int) -> Bool {
        let m = Array(mark)
        guard end - m.count >= 0, end <= text.count else { return false }
        return Array(text[(end - m.count)..<end]) == m
    }

    static func wordCount(_ text: [Character]) -> Int {
        text.split { $0 == " " }.filter { $0.contains { $0.isLetter || Frame.slotIndex($0) != nil } }.count
    }

    /// `frame` without `carrier`'s phrase and its argument.
    static func cut(_ carrier: Carrier, from frame: Frame) -> Frame {
        var out = frame
        out.text = tidy(Array(frame.text[..<carrier.range.lowerBound]) + Array(frame.text[carrier.range.upperBound...]))
        out.arguments = ArgumentLeaves.removing(frame.arguments, key: carrier.property)
        return out
    }

    /// `frame` with `carrier`'s phrase inserted (clauses before the final punctuation, sentences at
    /// the start or the end) and its argument added.
    static func insert(_ carrier: Carrier, into frame: Frame, atStart: Bool) -> Frame {
        var out = frame
        let offset = frame.slots.count
        let phrase: [Character] = carrier.text.map { c in Frame.slotIndex(c).map { Frame.placeholder($0 + offset) } ?? c }
        out.slots += carrier.slots
        var text = frame.text
        if carrier.isSentence {
            var sentence = phrase
            while sentence.last == " " { sentence.removeLast() }
            if let last = sentence.last, !sentenceEnds.contains(last) { sentence.append(".") }
            if atStart {
                text = sentence + [" "] + text
            } else {
                if let last = text.last, !sentenceEnds.contains(last) { text.append(".") }
                text += [" "] + sentence
            }
        } else {
            var end = text.count
            while end > 0, sentenceEnds.contains(text[end - 1]) { end -= 1 }
            text = Array(text[..<end]) + phrase + Array(text[end...])
        }
        out.text = tidy(text)
        if case .object(var members) = out.arguments {
            members.removeAll { $0.key == carrier.property }
            members.append((key: carrier.property, value: carrier.value))
            out.arguments = .object(members)
        }
        return out
    }

    /// Attached words a cut takes along with a required argument's slot.
    static let articles: Set<String> = ["the", "my", "our", "your", "a", "an", "this", "that"]
    static let attached: Set<String> = ["for", "order", "of", "to", "on", "in", "at", "from", "with", "about", "number", "id", "#", "no.", "nr"]

    /// `frame` with every slot of required `property` removed (with a directly attached word), or nil
    /// when nothing sensible remains.
    static func cutRequired(_ property: String, from frame: Frame) -> Frame? {
        var text = frame.text
        for position in frame.positions(of: property).reversed() {
            var start = position
            if start > 0, text[start - 1] == "#" { start -= 1 }
            // Attached words: "for order {id}", "in the {room}" (an article goes only with its preposition).
            func wordBefore(_ end: Int) -> (word: String, start: Int)? {
                guard end > 0, text[end - 1] == " " else { return nil }
                var w = end - 1
                while w > 0, text[w - 1] != " ", Frame.slotIndex(text[w - 1]) == nil { w -= 1 }
                return (String(text[w..<(end - 1)]).lowercased(), w)
            }
            if let first = wordBefore(start) {
                if attached.contains(first.word) {
                    start = first.start
                    if let second = wordBefore(start), attached.contains(second.word) { start = second.start }
                } else if articles.contains(first.word), let second = wordBefore(first.start), attached.contains(second.word) {
                    start = second.start
                }
            }
            text.removeSubrange(start...position)
            // An article the cut left hanging before punctuation or the end goes too ("Unlock the, I'm…").
            if let before = wordBefore(start), articles.contains(before.word),
               start == text.count || [",", ".", "!", "?", ";", ":"].contains(text[start]) || (text[start] == " " && start + 1 < text.count && [",", ".", "!", "?"].contains(text[start + 1])) {
                text.removeSubrange(before.start..<start)
            }
        }
        text = tidy(text)
        guard wordCount(text) >= 2 else { return nil }
        var out = frame
        out.text = text
        out.arguments = ArgumentLeaves.removing(frame.arguments, key: property)
        return out
    }

    /// Collapses doubled spaces and punctuation left by cuts: " ," → ",", ", ." → ".", leading marks.
    static func tidy(_ input: [Character]) -> [Character] {
        var out: [Character] = []
        for c in input {
            if c == " ", out.isEmpty || out.last == " " { continue }
            if [",", ".", "!", "?", ";", ":"].contains(c), out.last == " " { out.removeLast() }
            if c == ",", let last = out.last, [",", ".", "!", "?", ";", ":"].contains(last) { continue }
            if c == ":" || c == ";", out.last == "," { out.removeLast() }
            if [".", "!", "?"].contains(c), let last = out.last, [",", ";", ":"].contains(last) { out.removeLast() }
            out.append(c)
        }
        while let first = out.first, [",", ";", ":", " ", "-", "—"].contains(first) { out.removeFirst() }
        while out.last == " " || out.last == "," || out.last == ";" || out.last == ":" { out.removeLast() }
        if out.count >= 2, out[1] == " ", out[0] == "." { out.removeFirst(2) }
        return out
    }
}
