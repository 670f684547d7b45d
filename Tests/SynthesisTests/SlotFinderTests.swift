// Slot finding: each documented conversion, case forms, implied values and missing values.

import JSON
import Testing
import ToolCalls
@testable import Synthesis

@Suite struct SlotFinderTests {
    let catalogue: ToolCatalogue
    init() throws { catalogue = try Library.catalogue() }

    /// The form and text of the slot at `pointer` in `row`.
    func slot(_ row: String, _ pointer: String) throws -> (form: SurfaceForm, text: String)? {
        let example = try Library.analyse(row, catalogue)
        let prompt = Array(example.prompt)
        guard let slot = example.analysis.slots.first(where: { example.leaves[$0.leaf].pointer == pointer }) else { return nil }
        return (slot.form, String(prompt[slot.spans[0]]))
    }

    func row(_ prompt: String, _ tool: String, _ arguments: String) -> String {
        #"{"prompt": "\#(prompt)", "target": {"tool": "\#(tool)", "arguments": \#(arguments)}}"#
    }

    @Test func verbatimAndCaseInsensitive() throws {
        let verbatim = try slot(row("Lend me BK-1234 for 5 days", "borrow_book", #"{"book_id": "BK-1234", "days": 5}"#), "/book_id")
        #expect(verbatim?.text == "BK-1234")
        #expect(verbatim?.form == .text(.asIs))
        let upper = try slot(row("Find Dune as an EBOOK", "find_book", #"{"title": "Dune", "format": "ebook"}"#), "/format")
        #expect(upper?.text == "EBOOK")
        #expect(upper?.form == .spacedEnum(separator: " ", .upper))   // its sibling audio_book is written with a space
        #expect(upper?.form.render(.string("audio_book")) == "AUDIO BOOK")
    }

    @Test func identifiersNeedWordBoundaries() throws {
        let example = try Library.analyse(row("Lend me BK-12345 for 5 days", "borrow_book", #"{"book_id": "BK-1234", "days": 5}"#), catalogue)
        #expect(example.analysis.missing.map { example.leaves[$0].pointer } == ["/book_id"])
    }

    @Test func numberWordsAndDurationsInTheSchemaUnit() throws {
        let word = try slot(row("Lend me BK-1234 for three days", "borrow_book", #"{"book_id": "BK-1234", "days": 3}"#), "/days")
        #expect(word?.text == "three days")
        #expect(word?.form.render(.number(JSONNumber(7))) == "seven days")
        let weeks = try slot(row("Lend me BK-1234 for 2 weeks", "borrow_book", #"{"book_id": "BK-1234", "days": 14}"#), "/days")
        #expect(weeks?.text == "2 weeks")
        #expect(weeks?.form.render(.number(JSONNumber(21))) == "3 weeks")
        #expect(weeks?.form.render(.number(JSONNumber(10))) == nil)   // not whole weeks
        let hours = try slot(row("Book the media lab at 10:00 for 2 hours", "book_room",
                                 #"{"room": "media_lab", "start_time": "10:00", "duration_minutes": 120}"#), "/duration_minutes")
        #expect(hours?.text == "2 hours")
        let anHour = try slot(row("Book the media lab at 10:00 for an hour", "book_room",
                                  #"{"room": "media_lab", "start_time": "10:00", "duration_minutes": 60}"#), "/duration_minutes")
        #expect(anHour?.text == "an hour")
        let copies = try slot(row("Post two copies of BK-118 to FR", "ship_book", #"{"book_id": "BK-118", "country": "FR", "copies": 2}"#), "/copies")
        #expect(copies?.text == "two")
        #expect(copies?.form == .number(.word))
    }

    @Test func countryNamesBecomeAlpha2Codes() throws {
        let name = try slot(row("Send BK-5521 to the Netherlands", "ship_book", #"{"book_id": "BK-5521", "country": "NL"}"#), "/country")
        #expect(name?.text == "the Netherlands")
        #expect(name?.form == .countryName)
        #expect(name?.form.render(.string("DE")) == "Germany")
    }

    @Test func clockTimesBecomeHHMM() throws {
        let cases: [(String, String, String)] = [("at 9am", "09:00", "9am"), ("at 9:30 PM", "21:30", "9:30 PM"),
                                                 ("at half past six in the evening", "18:30", "half past six in the evening"),
                                                 ("at noon", "12:00", "noon"), ("at 07:15", "07:15", "07:15")]
        for (phrase, value, written) in cases {
            let found = try slot(row("Book the quiet room \(phrase)", "book_room", #"{"room": "quiet_room", "start_time": "\#(value)"}"#), "/start_time")
            #expect(found?.text == written, "\(phrase)")
        }
        let ampm = try slot(row("Book the quiet room at 9am", "book_room", #"{"room": "quiet_room", "start_time": "09:00"}"#), "/start_time")
        #expect(ampm?.form.render(.string("17:45")) == "5:45pm")
        // Every time written in words reads back as itself.
        for hour in 0..<24 {
            for minute in [0, 15, 30, 45] {
                let value = ClockText.hhmm(hour, minute)
                let text = try #require(ClockText.render(value, style: .words))
                #expect(ClockText.scan(Array("at " + text)).map(\.value) == [value], "\(text)")
            }
        }
    }

    @Test func enumValuesWrittenWithSpaces() throws {
        let room = try slot(row("Book the Quiet Room at noon", "book_room", #"{"room": "quiet_room", "start_time": "12:00"}"#), "/room")
        #expect(room?.text == "Quiet Room")
        #expect(room?.form.render(.string("media_lab")) == "Media lab" || room?.form.render(.string("media_lab")) == "media lab")
    }

    @Test func moneyAndPercentages() throws {
        let dollars = try slot(row("Pay my $5 fine", "pay_fine", #"{"amount": 5}"#), "/amount")
        #expect(dollars?.text == "$5")
        #expect(dollars?.form.render(.number(JSONNumber(12.5))) == "$12.5" || dollars?.form.render(.number(JSONNumber(12.5))) == "$12.50")
        let cents = try slot(row("Pay the 12.50 fee", "pay_fine", #"{"amount": 12.5}"#), "/amount")
        #expect(cents?.form.render(.number(JSONNumber(3.5))) == "3.50")
        let percent = try slot(row("Pay 20, with 30% off", "pay_fine", #"{"amount": 20, "discount_percent": 30}"#), "/discount_percent")
        #expect(percent?.text == "30%")
        let spelled = try slot(row("Pay 20, with 30 percent off", "pay_fine", #"{"amount": 20, "discount_percent": 30}"#), "/discount_percent")
        #expect(spelled?.text == "30 percent")
    }

    @Test func impliedAndMissingValues() throws {
        let example = try Library.analyse(row("Reserve the media lab at 18:30 with the beamer", "book_room",
                                               #"{"room": "media_lab", "start_time": "18:30", "projector": true}"#), catalogue)
        #expect(example.analysis.implied.map { example.leaves[$0].pointer } == ["/projector"])
        let set = try ExampleSet.parse(row("Find me something by Tolkien", "find_book", #"{"title": "The Hobbit"}"#), path: "m.jsonl", catalogue: catalogue)
        #expect(set.warnings.contains(.valueNotFound(file: "m.jsonl", line: 1, pointer: "/title", value: "\"The Hobbit\"")))
    }

    @Test func freeTextClaimsItsSpanBeforeNumbers() throws {
        let example = try Library.analyse(row("Pay 4 for the 3 books I lost", "pay_fine", #"{"amount": 4}"#), catalogue)
        let prompt = Array(example.prompt)
        #expect(example.analysis.slots.map { String(prompt[$0.spans[0]]) } == ["4"])
    }
}
