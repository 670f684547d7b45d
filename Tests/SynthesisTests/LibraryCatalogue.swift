// A synthetic catalogue made up for these tests (a library desk: no demo catalogue's tools or
// words), with every kind of argument the generator handles, and an examples file for it.

import JSON
import ToolCalls
@testable import Synthesis

enum Library {
    static let catalogueText = #"""
    [
      {"type": "function", "function": {"name": "find_book", "description": "Look a title up in the library stock.",
        "parameters": {"type": "object", "properties": {
          "title": {"type": "string", "minLength": 2, "maxLength": 80},
          "format": {"type": "string", "enum": ["hardcover", "ebook", "audio_book"]}},
        "required": ["title"], "additionalProperties": false}}},
      {"type": "function", "function": {"name": "borrow_book", "description": "Lend a copy to the member.",
        "parameters": {"type": "object", "properties": {
          "book_id": {"type": "string", "pattern": "^BK-[0-9]{3,6}$"},
          "days": {"type": "integer", "minimum": 1, "maximum": 60, "description": "Loan length in days"}},
        "required": ["book_id", "days"], "additionalProperties": false}}},
      {"type": "function", "function": {"name": "book_room", "description": "Reserve a study space.",
        "parameters": {"type": "object", "properties": {
          "room": {"type": "string", "enum": ["study_room", "quiet_room", "media_lab"]},
          "start_time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
          "duration_minutes": {"type": "integer", "minimum": 15, "maximum": 240},
          "projector": {"type": "boolean"}},
        "required": ["room", "start_time"], "additionalProperties": false}}},
      {"type": "function", "function": {"name": "pay_fine", "description": "Settle a late fee.",
        "parameters": {"type": "object", "properties": {
          "amount": {"type": "number", "minimum": 0, "maximum": 500},
          "discount_percent": {"type": "integer", "minimum": 0, "maximum": 100}},
        "required": ["amount"], "additionalProperties": false}}},
      {"type": "function", "function": {"name": "ship_book", "description": "Post a copy abroad.",
        "parameters": {"type": "object", "properties": {
          "book_id": {"type": "string", "pattern": "^BK-[0-9]{3,6}$"},
          "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
          "copies": {"type": "integer", "minimum": 1, "maximum": 10},
          "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]{2,12}$"}, "maxItems": 3}},
        "required": ["book_id", "country"], "additionalProperties": false}}}
    ]
    """#

    static let examplesText = #"""
    {"prompt": "Do you have Dune in stock?", "target": {"tool": "find_book", "arguments": {"title": "Dune"}}}
    {"prompt": "Look up The Hobbit for me, the EBOOK version.", "target": {"tool": "find_book", "arguments": {"title": "The Hobbit", "format": "ebook"}}}
    {"prompt": "Is Middlemarch available as an audio book?", "target": {"tool": "find_book", "arguments": {"title": "Middlemarch", "format": "audio_book"}}}
    {"prompt": "I'd like to borrow BK-4410 for three days.", "target": {"tool": "borrow_book", "arguments": {"book_id": "BK-4410", "days": 3}}}
    {"prompt": "Lend me BK-902 for 2 weeks please.", "target": {"tool": "borrow_book", "arguments": {"book_id": "BK-902", "days": 14}}}
    {"prompt": "Book the quiet room at 9am, for 2 hours.", "target": {"tool": "book_room", "arguments": {"room": "quiet_room", "start_time": "09:00", "duration_minutes": 120}}}
    {"prompt": "Reserve the media lab at half past six in the evening with the projector.", "target": {"tool": "book_room", "arguments": {"room": "media_lab", "start_time": "18:30", "projector": true}}}
    {"prompt": "Can I get the study room at noon?", "target": {"tool": "book_room", "arguments": {"room": "study_room", "start_time": "12:00"}}}
    {"prompt": "I want to pay my $5 fine.", "target": {"tool": "pay_fine", "arguments": {"amount": 5}}}
    {"prompt": "Pay the 12.50 late fee, with my 30% student discount.", "target": {"tool": "pay_fine", "arguments": {"amount": 12.5, "discount_percent": 30}}}
    {"prompt": "Send BK-5521 to Germany.", "target": {"tool": "ship_book", "arguments": {"book_id": "BK-5521", "country": "DE"}}}
    {"prompt": "Post two copies of BK-118 to FR, tagged gift and fragile.", "target": {"tool": "ship_book", "arguments": {"book_id": "BK-118", "country": "FR", "copies": 2, "tags": ["gift", "fragile"]}}}
    {"prompt": "Hello there!", "target": {"tool": "no_tool", "reason": "greeting, no action needed"}}
    {"prompt": "What are your opening hours?", "target": {"tool": "no_tool", "reason": "question, answer directly"}}
    {"prompt": "Renew my library card.", "target": {"tool": "no_tool", "reason": "no tool for renewals"}}
    """#

    static func catalogue() throws -> ToolCatalogue { try ToolCatalogue(json: JSONParser.parse(catalogueText)) }

    static func examples(_ catalogue: ToolCatalogue) throws -> ExampleSet {
        try ExampleSet.parse(examplesText, path: "library.jsonl", catalogue: catalogue)
    }

    /// The analysis of a single example row.
    static func analyse(_ row: String, _ catalogue: ToolCatalogue) throws -> Example {
        let set = try ExampleSet.parse(row, path: "one.jsonl", catalogue: catalogue)
        return set.examples[0]
    }
}
