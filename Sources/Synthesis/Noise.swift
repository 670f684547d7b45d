// Surface variation that fits any request: an opener, a context sentence, a closer, politeness,
// casing, typos and punctuation. It works on frame text, where slots are still placeholders, so
// no value is ever lower-cased or misspelt: a typo in "ORD-1234" would teach the model to copy a
// wrong id, a lower-cased enum value would no longer match its surface form.

struct NoiseSettings: Sendable {
    var opener = 0.22, closer = 0.22, context = 0.22, polite = 0.12
    var lowercase = 0.15, typos = 0.18, typoPerWord = 0.1, dropFinal = 0.15, exclaim = 0.04
    /// Chance of swapping each synonymous phrase found, and of dropping the articles (telegraphic style).
    var synonym = 0.35, dropArticles = 0.08
}

enum Noise {
    static let questionStarts: Set<String> = ["i", "i'm", "i'd", "my", "the", "can", "could", "what", "where", "is", "are", "do",
                                              "does", "how", "any", "has", "have", "did", "when", "why", "who", "which", "would",
                                              "will", "we", "our", "hi", "hello", "hey", "please", "kindly", "it", "its", "it's",
                                              "this", "that", "a", "an", "just", "so", "ok", "okay", "yes", "no", "not", "there"]

    /// `text` with generic variation; `sentences` are extra sentences of the same tool that may join.
    static func dress(_ input: [Character], sentences: [[Character]], settings: NoiseSettings, random: inout SynthRandom) -> [Character] {
        var text = Rewrites.synonyms(input, chance: settings.synonym, random: &random)
        if random.chance(settings.dropArticles) { text = Rewrites.droppingArticles(text) }
        if random.chance(settings.polite) { text = polite(text, random: &random) }
        if random.chance(settings.context) {
            let own = !sentences.isEmpty && random.chance(0.5)
            let sentence = own ? (random.pick(sentences) ?? []) : Array(random.pick(GenericText.contexts) ?? "")
            if !sentence.isEmpty, !String(SlotText.lowered(text)).contains(String(SlotText.lowered(sentence))) {
                text = endSentence(text)
                text = random.chance(0.5) ? sentence + [" "] + text : text + [" "] + sentence
            }
        }
        if random.chance(settings.opener), let opener = random.pick(GenericText.openers) {
            text = Array(opener) + lowerFirstIfJoined(text, opener: opener)
        }
        if random.chance(settings.closer), let closer = random.pick(GenericText.closers) { text = endSentence(text) + Array(closer) }
        if random.chance(settings.lowercase) { text = SlotText.lowered(text) }
        if random.chance(settings.typos) { text = typos(text, perWord: settings.typoPerWord, random: &random) }
        if let last = text.last, FrameEditing.sentenceEnds.contains(last) {
            if random.chance(settings.dropFinal) { text.removeLast() } else if last == ".", random.chance(settings.exclaim) { text[text.count - 1] = "!" }
        }
        return FrameEditing.tidy(text)
    }

    private static func firstWord(_ text: [Character]) -> String {
        String(text.prefix { $0 != " " && $0 != "," }).lowercased()
    }

    private static func polite(_ text: [Character], random: inout SynthRandom) -> [Character] {
        guard let first = text.first, first.isLetter, !questionStarts.contains(firstWord(text)) else { return text }
        if random.chance(0.5), let lead = random.pick(GenericText.politeLeads) {
            var out = Array(lead) + lowerFirst(text)
            if lead.hasPrefix("C") || lead.hasPrefix("W"), let last = out.last, last == "." { out[out.count - 1] = "?" }
            return out
        }
        var end = text.count
        while end > 0, FrameEditing.sentenceEnds.contains(text[end - 1]) { end -= 1 }
        return Array(text[..<end]) + Array(random.chance(0.5) ? ", please" : " please") + Array(text[end...])
    }

    private static func lowerFirst(_ text: [Character]) -> [Character] {
        guard let first = text.first, first.isUppercase else { return text }
        // "I" and acronyms ("API", "URGENT") keep their case.
        if text.count > 1, text[1].isUppercase || text[1] == " " || text[1] == "'" { return text }
        return [Character(first.lowercased())] + text.dropFirst()
    }

    private static func lowerFirstIfJoined(_ text: [Character], opener: String) -> [Character] {
        opener.hasSuffix(", ") || opener.hasSuffix(": ") || opener.hasSuffix("so ") || opener == "Hey " ? lowerFirst(text) : text
    }

    static func endSentence(_ text: [Character]) -> [Character] {
        guard let last = text.last, !FrameEditing.sentenceEnds.contains(last) else { return text }
        return text + ["."]
    }

    /// Misspells some words of four letters or more (swap, drop or double a letter), never a word with a placeholder.
    static func typos(_ text: [Character], perWord: Double, random: inout SynthRandom) -> [Character] {
        var out: [Character] = []
        var word: [Character] = []
        func flush(_ random: inout SynthRandom) {
            if word.count >= 4, word.allSatisfy(\.isLetter), random.chance(perWord) {
                let i = random.int(in: 1...(word.count - 2))
                switch random.below(3) {
                case 0: word.swapAt(i, i + 1)
                case 1: word.remove(at: i)
                default: word.insert(word[i], at: i)
                }
            }
            out += word
            word = []
        }
        for c in text {
            if c.isLetter || Frame.slotIndex(c) != nil { word.append(c) } else { flush(&random); out.append(c) }
        }
        flush(&random)
        return out
    }
}

/// Meaning-preserving rewrites of plain English that any request may take: interchangeable command verbs
/// and courtesy words, contractions spelt out or in, articles dropped as in a terse command. Only phrases
/// that mean exactly the same are grouped ("turn off" and "switch off"; never "now" and "immediately",
/// which can imply urgency), so a value the wording implies stays right.
enum Rewrites {
    static let groups: [[String]] = [
        ["turn on", "switch on"], ["turn off", "switch off", "shut off"], ["set", "change", "adjust"],
        ["show me", "give me", "get me"], ["can you", "could you", "would you"], ["please", "pls", "plz"],
        ["thanks", "thank you", "thx"], ["start", "begin"], ["what's", "what is"], ["it's", "it is"],
        ["i'm", "i am"], ["don't", "do not"], ["can't", "cannot"], ["i'd like", "i want", "i would like"],
        ["a bit", "a little"], ["asap", "as soon as possible"],
    ]

    /// `text` with each phrase of a group swapped, with probability `chance`, for another of its group
    /// (whole words, outside placeholders; a capital first letter is kept).
    static func synonyms(_ text: [Character], chance: Double, random: inout SynthRandom) -> [Character] {
        guard chance > 0 else { return text }
        var out: [Character] = []
        var i = 0
        let lower = SlotText.lowered(text)
        scan: while i < text.count {
            let atWordStart = i == 0 || !(text[i - 1].isLetter || text[i - 1] == "'")
            if atWordStart {
                for group in groups {
                    for phrase in group where SlotText.has(lower, phrase, at: i) {
                        let end = i + phrase.count
                        guard end == text.count || !(text[end].isLetter || text[end] == "'") else { continue }
                        guard random.chance(chance), let other = random.pick(group.filter { $0 != phrase }) else { continue }
                        var replacement = Array(other)
                        if text[i].isUppercase, let first = replacement.first { replacement[0] = Character(first.uppercased()) }
                        out += replacement
                        i = end
                        continue scan
                    }
                }
            }
            out.append(text[i])
            i += 1
        }
        return out
    }

    /// `text` without "the", "a" and "an" (a terse command: "turn off kitchen lights").
    static func droppingArticles(_ text: [Character]) -> [Character] {
        let words = String(text).split(separator: " ", omittingEmptySubsequences: false)
        let kept = words.enumerated().filter { index, word in index == 0 || !["the", "a", "an"].contains(word.lowercased()) }.map(\.element)
        return Array(kept.joined(separator: " "))
    }
}
