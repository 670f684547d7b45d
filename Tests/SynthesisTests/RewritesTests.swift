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

@Suite struct GenericCarrierTests {
    @Test func enumAndIntegerOptionsGetSchemaMadePhrases() throws {
        let enumCarriers = GenericCarriers.carriers(tool: "t", property: "audio_mode", schema: try JSONParser.parse(#"{"type":"string","enum":["deep_bass","flat"]}"#))
        let texts = enumCarriers.map { String($0.text.map { Frame.slotIndex($0) == nil ? $0 : "@" }) }
        #expect(texts == [", @ audio mode", " in @ audio mode", ", audio mode: @", " with audio mode @", ", audio mode @", " using @ audio mode"])
        #expect(enumCarriers[0].slots[0].form.render(.string("deep_bass")) == "deep bass")
        let numbers = GenericCarriers.carriers(tool: "t", property: "volume", schema: try JSONParser.parse(#"{"type":"integer","minimum":1,"maximum":100}"#))
        #expect(numbers.count == 5 && numbers[0].value == .number(JSONNumber(50)))
        #expect(GenericCarriers.carriers(tool: "t", property: "on", schema: try JSONParser.parse(#"{"type":"boolean"}"#)).isEmpty)
        #expect(GenericCarriers.carriers(tool: "t", property: "room", schema: try JSONParser.parse(#"{"type":"string"}"#)).isEmpty)
    }

    @Test func rowsUseThemAndStayValid() throws {
        let catalogue = try Library.catalogue()
        let result = Synthesizer(catalogue: catalogue, examples: try Library.examples(catalogue), options: SynthesisOptions(rows: 3000, seed: 4)).run()
        // "format" is stated by the examples one way ("the EBOOK version"); schema-made phrasings now appear too.
        let generic = result.rows.filter { row in
            guard case .tool("find_book", let arguments) = row.call, let format = arguments["format"]?.stringValue else { return false }
            let spoken = format.replacingAll("_", with: " ")
            return row.prompt.contains(", \(spoken) format") || row.prompt.contains(" in \(spoken) format") || row.prompt.contains("format: \(spoken)")
                || row.prompt.contains("with format \(spoken)") || row.prompt.contains(", format \(spoken)") || row.prompt.contains("using \(spoken) format")
        }
        #expect(generic.count > 20, "\(generic.count) rows with a schema-made format phrase")
        for row in result.rows { #expect(catalogue.validate(row.call, origin: .request(row.prompt)).isEmpty, "\(row.prompt)") }
    }
}
