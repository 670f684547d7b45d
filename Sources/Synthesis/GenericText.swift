// Generic text the generator adds around frames, and generic value pools. Nothing here knows a
// catalogue: openers, closers, politeness and context sentences fit any request to any assistant;
// the value pools are keyed by generic property-name words (a property called `assignee`, `owner`
// or `contact_name` gets person names, `city` gets cities), never by a tool.

enum GenericText {
    static let openers = ["Hi, ", "Hello, ", "Hey, ", "Hi there! ", "Good morning. ", "Morning! ", "Quick one: ",
                          "Sorry to bother you, ", "Excuse me, ", "Hey ", "Yo, ", "OK so ", "Hello again, ", "Right, ",
                          "Hi team, ", "Good afternoon. ", "Evening! ", "Hiya, ", "One more thing: ", "Quick request: "]
    static let closers = [" Thanks!", " Thank you.", " Thanks in advance.", " Cheers.", " Much appreciated.", " Thx",
                          " ty", " Thanks a lot.", " Appreciate it.", " Cheers!", " Many thanks.", " TIA.",
                          " Thank you so much.", " Thanks, you're a star."]
    static let politeLeads = ["Please ", "Could you please ", "Can you ", "Would you ", "Kindly ", "I'd like you to ",
                              "Could you ", "Can you please "]
    static let contexts = ["I'm in a bit of a hurry.", "Sorry if this is the wrong place to ask.", "Hope you're well.",
                           "This is the second time I'm asking.", "I'm on my phone, sorry for typos.",
                           "It's been a long day.", "Just following up.", "My colleague asked me to pass this on.",
                           "Not sure if you can help with this.", "No big deal, but still.", "Thanks for the quick help earlier.",
                           "Sorry for the late message.", "Hope this makes sense.", "I tried myself but gave up.",
                           "Let me know if you need anything else.", "I'm new here.", "It's fairly important.",
                           "As discussed earlier.", "Writing this in a rush.", "Long story short:"]

    /// Neutral clauses that can stand as free text in any domain (a reason, a summary, a note).
    static let clauses = ["it stopped working this morning", "nobody has replied to my last three messages",
                          "the same thing happened last week", "it was not what I expected", "the problem came back after a day",
                          "I was told it would be fixed by now", "it keeps failing without any error", "the deadline is tomorrow",
                          "it broke right after the update", "the numbers do not add up", "I have asked twice already",
                          "it has been like this since Monday", "half of it is missing", "the second attempt failed too",
                          "it is much slower than usual", "someone else changed it without asking", "the instructions were wrong",
                          "it worked fine until yesterday", "the wrong version was used", "I need it sorted before the weekend",
                          "it makes a strange noise", "the colour is completely different", "the old one was better",
                          "it only happens at night", "the reminder never arrived", "the page shows an error",
                          "everything is stuck in a queue", "the data looks out of date", "it was charged twice",
                          "the size is wrong"]

    /// Generic words for identifier-like pattern values ("billing-worker", "atlas_sync").
    static let identifierWords = [
        "alpha", "beta", "core", "main", "data", "web", "api", "edge", "sync", "cache", "queue", "report", "user", "mail",
        "media", "image", "video", "auth", "search", "billing", "ledger", "notify", "gateway", "worker", "service", "store",
        "index", "stream", "batch", "admin", "portal", "metrics", "events", "jobs", "files", "backup", "config", "session",
        "token", "profile", "pricing", "catalog", "review", "export", "import", "tasks", "cloud", "north", "south", "blue",
        "green", "delta", "gamma", "nova", "atlas", "orion", "apollo", "hermes", "phoenix", "relay", "router", "runner",
        "scheduler", "frontend", "backend", "proxy", "indexer", "ingest", "payments", "orders", "inventory", "chat", "geo",
        "bug", "infra", "ops", "docs", "cleanup", "security", "storage", "network", "release", "hotfix", "design", "team",
    ]
    static let identifierSuffixes = ["api", "service", "worker", "svc", "gateway", "proxy", "sync", "runner", "db", "v2",
                                     "frontend", "backend", "store", "queue", "app", "job"]

    /// One compound: a word, word-word or word-suffix (separators "-", "_" or none).
    static func compound(random: inout SynthRandom) -> String {
        let a = identifierWords[random.below(identifierWords.count)]
        switch random.below(6) {
        case 0, 1: return a
        case 2, 3: return a + "-" + identifierSuffixes[random.below(identifierSuffixes.count)]
        case 4: return a + "-" + identifierWords[random.below(identifierWords.count)]
        default: return a + "_" + identifierSuffixes[random.below(identifierSuffixes.count)]
        }
    }

    static let firstNames = ["Alice", "Bob", "Maria", "Sam", "Priya", "Chen", "Omar", "Lena", "Kofi", "Ines", "Noah", "Yuki",
                             "Tom", "Sofia", "Lucas", "Amara", "Jonas", "Mei", "Diego", "Hannah", "Ravi", "Elena", "Marek",
                             "Aisha", "Pablo", "Freya", "Ken", "Zoe", "Ivan", "Nadia"]
    static let lastNames = ["Smith", "Garcia", "Müller", "Rossi", "Kim", "Nguyen", "Okafor", "Silva", "Novak", "Brown",
                            "Dubois", "Jensen", "Tanaka", "Patel", "Cohen", "Walsh"]
    static let cities = ["London", "Berlin", "Madrid", "Rome", "Paris", "Lisbon", "Vienna", "Dublin", "Oslo", "Prague",
                         "Boston", "Denver", "Austin", "Toronto", "Sydney", "Melbourne", "Leeds", "Lyon", "Munich",
                         "Milan", "Porto", "Ghent", "Utrecht", "Krakow", "Seattle", "Chicago", "Vancouver", "Auckland"]
    static let streetNames = ["Oak", "Maple", "Station", "Church", "Mill", "High", "Park", "Elm", "Victoria", "Bridge",
                              "Garden", "Lake", "River", "Hill", "Market", "Cedar", "Willow", "King", "Queen", "North"]

    /// Plain nouns from many domains, for novel grounded values: an example's value with one word swapped
    /// ("living room" → "guest room", "heat pump" → "garden pump") is a name the model has never seen
    /// and must copy from the request, which is what `x-from-input` asks of it.
    static let nouns = ["guest", "garden", "attic", "studio", "river", "harbour", "summer", "winter", "north", "south", "east",
                        "west", "upper", "lower", "back", "front", "corner", "blue", "green", "red", "silver", "maple", "oak",
                        "cedar", "music", "reading", "games", "laundry", "utility", "boot", "sun", "tower", "annex", "loft",
                        "cellar", "pantry", "porch", "workshop", "library", "gallery", "lab", "office", "den", "nook", "hall",
                        "court", "field", "lake", "hill", "stone", "glass", "paper", "night", "morning", "evening", "jazz",
                        "piano", "guitar", "rain", "ocean", "forest", "desert", "city", "road", "train", "coffee", "tea",
                        "bread", "honey", "lemon", "pepper", "cotton", "velvet", "iron", "copper", "marble", "crystal",
                        "orbit", "comet", "falcon", "otter", "fox", "wolf", "bear", "robin", "swan", "tiger", "panda",
                        "project", "market", "harvest", "signal", "beacon", "anchor", "compass", "lantern", "meadow"]

    /// Which generic pools a property name asks for.
    static func poolWords(for propertyName: String) -> [String] {
        let words = SlotText.words(ofIdentifier: propertyName)
        let keyed: [(String, Set<String>)] = [
            ("email", ["email", "mail"]),
            ("person", ["fullname", "person", "assignee", "assignees", "owner", "user", "username", "contact", "recipient", "attendee",
                        "attendees", "member", "customer", "author", "reviewer", "manager", "agent", "guest", "invitee",
                        "participant", "participants", "people", "who", "host"]),
            ("city", ["city", "town"]),
            ("street", ["street", "line1"]),
            ("postal", ["postal", "postcode", "zip", "zipcode"]),
        ]
        var out: [String] = []
        for (pool, keys) in keyed where words.contains(where: keys.contains) { out.append(pool) }
        if out.contains("email") { out.removeAll { $0 == "person" } }
        return out
    }

    /// A few values of generic pool `word`.
    static func pool(_ word: String, random: inout SynthRandom) -> [String] {
        switch word {
        case "person":
            return firstNames + (0..<10).map { _ in
                firstNames[random.below(firstNames.count)] + " " + lastNames[random.below(lastNames.count)]
            }
        case "email":
            return (0..<20).map { _ in
                firstNames[random.below(firstNames.count)].lowercased() + "." + lastNames[random.below(lastNames.count)].lowercased()
                    .replacingAll("ü", with: "u") + "@example.com"
            }
        case "city": return cities
        case "street":
            let kinds = ["Street", "Road", "Lane", "Avenue", "Way", "Drive"]
            return (0..<20).map { _ in "\(random.int(in: 1...250)) \(streetNames[random.below(streetNames.count)]) \(kinds[random.below(kinds.count)])" }
        case "postal":
            return (0..<20).map { _ in
                switch random.below(3) {
                case 0: return String(random.int(in: 10000...99999))
                case 1: return String(random.int(in: 1000...9999))
                default:
                    let letters = Array("ABCDEFGHJKLMNPRSTUVWXY")
                    return "\(letters[random.below(letters.count)])\(letters[random.below(letters.count)])\(random.int(in: 1...20)) \(random.int(in: 1...9))\(letters[random.below(letters.count)])\(letters[random.below(letters.count)])"
                }
            }
        default: return []
        }
    }
}
