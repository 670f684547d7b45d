// The compiler's state: rules produced so far, the names they took, and the `$ref` targets
// already compiled. `run()` compiles the root, then keeps only the rules the root can reach and
// checks that every rule has a finite completion.

import Grammar
import JSON

/// One compilation of one schema document.
struct Compiler {
    /// The whole document, for resolving `$ref`.
    let document: JSONValue
    let options: SchemaCompilerOptions
    /// Rules in the order they were started (a slot is nil while its body is being compiled).
    private var slots: [GrammarRule?] = []
    /// The schema pointer each compiled rule came from, for error messages.
    private var pointerOfRule: [String: String] = [:]
    /// Every name taken, including the primitives'.
    private var takenNames: Set<String> = JSONPrimitives.names
    /// `$ref` target pointer → name of its rule.
    var referenceRules: [String: String] = [:]
    /// How many schemas are being compiled one inside another (guards against schemas that
    /// inline themselves without end, such as `anyOf` beside a `$ref` back to the same schema, and
    /// against `$ref` chains thousands of links long); bounded by the shared `NestingLimit.depth`.
    var nesting = 0
    /// Rules holding the text of `x-from-input` strings.
    var groundedNames: Set<String> = []

    init(root: JSONValue, options: SchemaCompilerOptions) {
        self.document = root
        self.options = options
    }

    /// Compiles the document into a grammar whose start rule is `root`.
    mutating func run() throws(SchemaCompileError) -> Grammar {
        takenNames.insert("root")
        referenceRules[""] = "root"
        slots.append(nil)
        let body = try compileSchema(document, at: "", name: "root")
        slots[0] = GrammarRule(name: "root", body: body)
        pointerOfRule["root"] = ""
        let compiled = slots.compactMap { $0 }
        let all = compiled + JSONPrimitives.rules
        let reachable = Self.reachableNames(from: "root", in: all)
        let rules = all.filter { reachable.contains($0.name) }
        try checkFiniteCompletion(rules)
        return Grammar(rules: rules, root: "root", groundedRules: groundedNames.intersection(reachable))
    }

    /// Compiles `schema` into its own rule named after `hint`, and returns a reference to it.
    mutating func ruleFor(_ schema: JSONValue, at pointer: String, hint: String) throws(SchemaCompileError) -> GrammarExpr {
        let name = reserveName(hint)
        let slot = slots.count
        slots.append(nil)
        pointerOfRule[name] = pointer
        let body = try compileSchema(schema, at: pointer, name: name)
        slots[slot] = GrammarRule(name: name, body: body)
        return .ruleRef(name)
    }

    /// A rule named after `hint` with a body already built (for parts used more than once).
    mutating func namedRule(_ hint: String, at pointer: String, body: GrammarExpr) -> GrammarExpr {
        let name = reserveName(hint)
        slots.append(GrammarRule(name: name, body: body))
        pointerOfRule[name] = pointer
        return .ruleRef(name)
    }

    /// Starts a rule for a `$ref` target: the name is registered before the body is compiled,
    /// so that recursive references find it.
    mutating func referenceRule(target: JSONValue, targetPointer: String) throws(SchemaCompileError) -> GrammarExpr {
        if let name = referenceRules[targetPointer] { return .ruleRef(name) }
        let name = reserveName(Self.hint(forReference: targetPointer))
        referenceRules[targetPointer] = name
        let slot = slots.count
        slots.append(nil)
        pointerOfRule[name] = targetPointer
        let body = try compileSchema(target, at: targetPointer, name: name)
        slots[slot] = GrammarRule(name: name, body: body)
        return .ruleRef(name)
    }

    /// A unique GBNF name (`[a-zA-Z0-9-]+`) built from `hint`.
    mutating func reserveName(_ hint: String) -> String {
        let base = Self.sanitize(hint)
        var candidate = base
        var counter = 2
        while takenNames.contains(candidate) {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        takenNames.insert(candidate)
        return candidate
    }

    /// `hint` with every run of characters outside `[a-zA-Z0-9]` turned into one `-`.
    static func sanitize(_ hint: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in hint.unicodeScalars {
            let isNameChar = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
            if isNameChar {
                if pendingDash && !out.isEmpty { out.append("-") }
                pendingDash = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        return out.isEmpty ? "x" : out
    }

    /// `#/$defs/node` → `defs-node`; `#` → `root-ref`; other pointers → their segments joined.
    static func hint(forReference pointer: String) -> String {
        let tokens = JSONPointer.tokens(of: pointer)
        if tokens.isEmpty { return "root-ref" }
        if tokens.count == 2, tokens[0] == "$defs" || tokens[0] == "definitions" { return "defs-" + tokens[1] }
        return "ref-" + tokens.joined(separator: "-")
    }

    /// Names of the rules `start` can reach.
    static func reachableNames(from start: String, in rules: [GrammarRule]) -> Set<String> {
        var bodies: [String: GrammarExpr] = [:]
        for rule in rules { bodies[rule.name] = rule.body }
        var seen: Set<String> = [start]
        var stack = [start]
        while let name = stack.popLast() {
            guard let body = bodies[name] else { continue }
            for ref in references(in: body) where !seen.contains(ref) {
                seen.insert(ref)
                stack.append(ref)
            }
        }
        return seen
    }

    /// Rule names referenced anywhere in `expr`.
    static func references(in expr: GrammarExpr) -> [String] {
        switch expr {
        case .ruleRef(let name): return [name]
        case .sequence(let parts), .choice(let parts): return parts.flatMap { references(in: $0) }
        case .repeat(let inner, _, _): return references(in: inner)
        case .literal, .charClass: return []
        }
    }

    /// Fails when some rule can never finish (a recursive schema whose recursion is required).
    private func checkFiniteCompletion(_ rules: [GrammarRule]) throws(SchemaCompileError) {
        var finite: Set<String> = []
        var changed = true
        while changed {
            changed = false
            for rule in rules where !finite.contains(rule.name) && Self.isFinite(rule.body, given: finite) {
                finite.insert(rule.name)
                changed = true
            }
        }
        // Report a `$ref` target when one is stuck: that is where the endless recursion is.
        let targets = Set(referenceRules.values)
        let stuckRules = rules.filter { !finite.contains($0.name) }
        if let stuck = stuckRules.first(where: { targets.contains($0.name) && $0.name != "root" }) ?? stuckRules.first {
            throw .invalidSchema(pointer: pointerOfRule[stuck.name] ?? "",
                                 reason: "recursive schema has no finite instance (rule \(stuck.name))")
        }
    }

    private static func isFinite(_ expr: GrammarExpr, given finite: Set<String>) -> Bool {
        switch expr {
        case .literal, .charClass: return true
        case .ruleRef(let name): return finite.contains(name)
        case .sequence(let parts): return parts.allSatisfy { isFinite($0, given: finite) }
        case .choice(let parts): return parts.contains { isFinite($0, given: finite) }
        case .repeat(let inner, let min, _): return min == 0 || isFinite(inner, given: finite)
        }
    }
}

/// RFC 6901 JSON pointers.
enum JSONPointer {
    /// `pointer` extended by one reference token, escaped (`~` → `~0`, `/` → `~1`).
    static func appending(_ pointer: String, _ token: String) -> String {
        pointer + "/" + token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// `pointer` extended by an array index.
    static func appending(_ pointer: String, _ index: Int) -> String { pointer + "/" + String(index) }

    /// The unescaped tokens of a URI-fragment pointer such as `#/$defs/a~1b` (`#` alone → none).
    static func tokens(of pointer: String) -> [String] {
        var body = Substring(pointer)
        if body.hasPrefix("#") { body = body.dropFirst() }
        guard !body.isEmpty else { return [] }
        return body.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }
}
