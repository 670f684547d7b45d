// The built-in no_tool pool: small talk, thanks, general questions and requests no catalogue of
// this kind serves, a few hundred lines in all (fixed lines plus simple compositions). Lines whose
// content words overlap the catalogue's own vocabulary (tool names, descriptions, argument names,
// enum values) are dropped, so a weather catalogue never learns "what's the weather" as no_tool.

import JSON
import ToolCalls

enum NoToolPool {
    static let greeting = "greeting, no action needed"
    static let thanks = "thanks, no action needed"
    static let question = "question, answer directly"
    static let outside = "no tool for that action"

    static let greetHeads = ["Hi", "Hello", "Hey", "Morning", "Good afternoon", "Evening", "Hiya", "Howdy", "Hey there", "Yo",
                             "Good morning", "Hello there", "Hi all", "Greetings"]
    static let greetTails = ["", "!", "! Hope you're well.", ", hope your day is going fine.", ". Quiet day so far?", "! Happy Monday.",
                             ", just saying hi.", "! Long week, huh?", ". Just checking in.", "! Hope the weekend was good.",
                             ", how are things?", ", how's it going?", ". Anyone around?", ", is anyone there?"]
    static let thanksHeads = ["Thanks", "Thank you", "Cheers", "Many thanks", "Thanks a lot", "Great, thanks", "Brilliant, thank you",
                              "Perfect", "Awesome, cheers", "Lovely, thanks", "ok thanks", "Thx", "Much appreciated"]
    static let thanksTails = ["", "!", ", that sorted it.", ", all good now.", " for the help.", ", nothing else for now.",
                              ", have a good one!", ", you've been very helpful.", ", problem solved.", ", that's everything.", ", bye"]
    static let questionForms = ["How does {x} work?", "Can you explain {x}?", "What is {x}, exactly?", "Why is {x} a thing?",
                                "Is there anything I should know about {x}?", "Quick question: how does {x} work?",
                                "I'm curious, what's the deal with {x}?", "Could you tell me more about {x}?", "What do you think about {x}?"]
    static let questionTopics = ["machine learning", "the moon landing", "photosynthesis", "compound interest", "the offside rule",
                                 "black holes", "sourdough bread", "the stock market", "jet lag", "climate change", "blockchain",
                                 "quantum computing", "the Roman empire", "vaccines", "inflation", "daylight saving time", "chess openings",
                                 "time zones", "tax returns", "meditation", "the French revolution", "electric cars", "coffee roasting"]
    static let questions = [
        "What's the capital of Australia?", "How many legs does a spider have?", "Who wrote Pride and Prejudice?",
        "What time is it in Tokyo right now?", "Is it going to rain tomorrow?", "How do I boil an egg?", "What's 17 times 23?",
        "Can you recommend a good book?", "What's the meaning of life?", "How far is the moon?", "Who won the World Cup in 2010?",
        "What's a good name for a cat?", "How do you say thank you in Japanese?", "Are you a robot?", "What can you do?",
        "What are you able to help with?", "Do you have feelings?", "Who made you?", "How tall is Mount Everest?",
        "What's the best way to learn Spanish?", "Why is the sky blue?", "Which is bigger, a whale or an elephant?",
        "How long should I steep green tea?", "What's your favourite colour?", "Is a tomato a fruit?",
        "How do I get better sleep?", "What does HTTP stand for?", "How many days are in a leap year?",
        "Can penguins fly?", "What's the difference between weather and climate?", "How do I tie a tie?",
    ]
    static let outsideRequests = [
        "Book me a flight to Rome next Friday.", "Order a large pepperoni pizza.", "Translate this sentence into French.",
        "Write a poem about autumn.", "Call my mum.", "Set an alarm for 6am.", "Buy two tickets for the concert.",
        "Send flowers to my grandmother.", "Find me a cheap hotel in Lisbon.", "Tell me a joke.", "Play a game with me.",
        "Draw a picture of a horse.", "Summarise this article for me.", "Write my homework essay.", "Sing happy birthday.",
        "Reserve a table for four at an Italian restaurant.", "Transfer 200 dollars to my savings account.",
        "Post this on my social media.", "Download the latest movie.", "Call a taxi to the airport.",
        "Add milk to my shopping list.", "Remind me to water the plants.", "Book a haircut for Saturday.",
        "Translate 'good morning' into German.", "Compose an email to my landlord.", "Buy some stocks for me.",
        "Check my horoscope.", "Find a recipe for lasagne.", "Renew my passport.", "Feed the cat.",
        "Write a cover letter for a marketing job.", "Pay my electricity bill.", "Cancel my gym membership.",
        "Order a new phone charger online.", "Find the nearest pharmacy.", "Plan a road trip through Scotland.",
        "Make me a sandwich.", "Print my boarding pass.", "Subscribe me to a podcast about history.",
        "Hack into my neighbour's wifi.", "Do my taxes.", "Look up the football scores.", "Book a dentist appointment.",
    ]
    static let chatter = [
        "lol", "ok", "hmm", "never mind", "nevermind, I figured it out", "Sorry, wrong chat.", "test", "testing 123",
        "Just saying hi :)", "Is this thing on?", "Ignore my last message.", "brb", "All good, carry on.", "Nothing, sorry.",
        "I'll come back later.", "Have a nice weekend!", "You're doing great.", "Nice weather today, isn't it?",
        "I had a great lunch.", "My cat just knocked over a plant.", "What a day.", "Can't talk now, later.",
    ]

    /// Every pool line with its reason, in a fixed order.
    static var lines: [(text: String, reason: String)] {
        var out: [(String, String)] = []
        for head in greetHeads { for tail in greetTails { out.append((head + tail, greeting)) } }
        for head in thanksHeads { for tail in thanksTails { out.append((head + tail, thanks)) } }
        for form in questionForms { for topic in questionTopics { out.append((form.replacingAll("{x}", with: topic), question)) } }
        out += questions.map { ($0, question) }
        out += outsideRequests.map { ($0, outside) }
        out += chatter.map { ($0, greeting) }
        return out
    }

    static let stopwords: Set<String> = ["what", "that", "this", "with", "your", "from", "have", "will", "would", "could", "should",
                                         "there", "their", "about", "which", "when", "where", "please", "some", "more", "like",
                                         "just", "does", "only", "into", "over", "also", "than", "then", "them", "they", "been",
                                         "were", "each", "other", "such", "here", "very", "make", "want", "need", "know", "tell",
                                         "give", "whole", "true", "false", "omit", "given", "user", "says", "name", "hope", "good"]

    /// Content words of `text`: letters only, four or more, not stopwords, a plural "s" dropped.
    static func contentWords(_ text: String) -> Set<String> {
        var out: Set<String> = []
        for raw in text.lowercased().split(whereSeparator: { !$0.isLetter }) where raw.count >= 4 {
            var word = String(raw)
            if word.hasSuffix("s") && word.count > 4 { word.removeLast() }
            if !stopwords.contains(word) { out.insert(word) }
        }
        return out
    }

    /// The catalogue's vocabulary: tool names, descriptions, property names and enum values.
    static func vocabulary(of catalogue: ToolCatalogue) -> Set<String> {
        var words: Set<String> = []
        for tool in catalogue.tools {
            words.formUnion(contentWords(tool.name.replacingAll("_", with: " ").replacingAll("-", with: " ")))
            words.formUnion(contentWords(tool.description))
            collect(tool.parameters, into: &words)
        }
        return words
    }

    private static func collect(_ schema: JSONValue, into words: inout Set<String>) {
        guard let members = schema.objectMembers else { return }
        for member in members {
            switch member.key {
            case "properties":
                for property in member.value.objectMembers ?? [] {
                    words.formUnion(contentWords(SlotText.words(ofIdentifier: property.key).joined(separator: " ")))
                    collect(property.value, into: &words)
                }
            case "description": words.formUnion(contentWords(member.value.stringValue ?? ""))
            case "enum": for v in member.value.arrayValue ?? [] { words.formUnion(contentWords(v.stringValue ?? "")) }
            case "items", "additionalProperties": collect(member.value, into: &words)
            default: continue
            }
        }
    }

    /// The pool lines that share no content word with `catalogue`.
    static func lines(for catalogue: ToolCatalogue) -> [(text: String, reason: String)] {
        let vocabulary = vocabulary(of: catalogue)
        return lines.filter { contentWords($0.text).isDisjoint(with: vocabulary) }
    }
}
