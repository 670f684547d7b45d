// Generic rewrites and surface-form variety: meaning kept, placeholders untouched, seeded.

import JSON
import Testing
@testable import Synthesis

@Suite struct RewritesTests {
    static let slot = Frame.placeholder(0)

    @Test func synonymsSwapWholePhrasesAndKeepCapitals() {
        var random = SynthRandom(seed: 3)
        let text = Array("Turn off the \(Self.slot) lights please, I'm off to bed. Reset the settings.")
        let out = String(Rewrites.synonyms(text, chance: 1, random: &random))
        #expect(out.hasPrefix("Switch off the \(Self.slot)") || out.hasPrefix("Shut off the \(Self.slot)"), "\(out)")
        #expect(!out.contains("please") && (out.contains("pls") || out.contains("plz")))
        #expect(out.contains("I am off"))
        // Words that only contain a phrase ("Reset", "settings") are left alone.
        #expect(out.hasSuffix("Reset the settings."))
        var again = SynthRandom(seed: 3)
        #expect(String(Rewrites.synonyms(text, chance: 1, random: &again)) == out, "seeded")
        var none = SynthRandom(seed: 3)
        #expect(Rewrites.synonyms(text, chance: 0, random: &none) == text)
    }

    @Test func articlesDropButNotTheFirstWordOrPlaceholders() {
        let text = Array("The vacuum should do the \(Self.slot) and a hallway at an hour")
        #expect(String(Rewrites.droppingArticles(text)) == "The vacuum should do \(Self.slot) and hallway at hour")
    }

    @Test func clockFormsVaryAndStillSayTheSameTime() {
        var random = SynthRandom(seed: 11)
        let form = SurfaceForm.clock(.twelve(suffixes: ["am", "pm"], spaced: false))
        var written: Set<String> = []
        for _ in 0..<200 {
            let varied = form.varied(&random)
            guard let text = varied.render(.string("21:15")) else { Issue.record("\(varied) cannot write 21:15"); continue }
            written.insert(text)
            // Whatever the style, the slot finder reads the same time back.
            #expect(ClockText.scan(Array(text)).contains { $0.value == "21:15" }, "\(text)")
        }
        #expect(written.isSuperset(of: ["9:15pm", "21:15", "quarter past nine in the evening"]), "\(written)")
    }

    @Test func numberWordsAndPercentSuffixesVary() {
        var random = SynthRandom(seed: 5)
        var words = 0, percent: Set<String> = []
        for _ in 0..<400 {
            if case .number(.word) = SurfaceForm.number(.digits(fractionDigits: 0)).varied(&random) { words += 1 }
            if let text = SurfaceForm.number(.percent(suffix: "%")).varied(&random).render(.number(JSONNumber(30))) { percent.insert(text) }
        }
        #expect((60...140).contains(words), "about one in four: \(words)")
        #expect(percent == ["30%", "30 percent", "30 per cent"])
    }
}
