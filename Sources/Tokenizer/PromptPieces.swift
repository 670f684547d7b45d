// A prompt as a list of pieces: the chat template's own control tokens, and text.
//
// Why: encoding a rendered prompt string with special-token parsing on would turn any `<|im_end|>` a
// user (or a catalogue author) writes into a real end-of-turn token, so a request could fake a new turn
// ("prompt injection through control tokens"). Keeping the template's control tokens apart from the
// text lets each be encoded as what it is: control pieces as their single ids, text with special-token
// parsing off. Adjacent text pieces are joined before encoding, so a prompt whose text holds no
// control-token string gets exactly the ids the whole string would get with parsing on.

/// One piece of a rendered prompt.
public enum PromptPiece: Sendable, Equatable {
    /// A control token the template writes (`<|im_start|>`, `<|im_end|>`, `<|eot_id|>`…): encoded as
    /// its single id.
    case control(String)
    /// Text (roles, message contents, newlines): encoded as plain text, control-token strings included.
    case text(String)

    /// The piece's text as it appears in the rendered prompt.
    public var rendered: String {
        switch self {
        case .control(let token), .text(let token): return token
        }
    }
}

extension Array where Element == PromptPiece {
    /// The prompt text (what `ChatTemplate.render` returns).
    public var renderedText: String { map(\.rendered).joined() }

    /// The pieces with adjacent text pieces joined and empty text pieces dropped.
    public var coalesced: [PromptPiece] {
        var out: [PromptPiece] = []
        for piece in self {
            guard case .text(let text) = piece else { out.append(piece); continue }
            if text.isEmpty { continue }
            if case .text(let previous)? = out.last { out[out.count - 1] = .text(previous + text) } else { out.append(piece) }
        }
        return out
    }
}

extension BPETokenizer {
    /// Encodes a prompt given as pieces: control pieces with special-token parsing on (a control
    /// string becomes its id), text pieces with it off (a control-token string in the text is encoded
    /// as ordinary text). BOS/EOS are added once, by the model's flags, as `encode(_:parseSpecial:addSpecial:)`
    /// does; `addSpecial` false leaves them out (the second part of a prompt encoded in two parts).
    public func encode(_ pieces: [PromptPiece], addSpecial: Bool = true) -> [Int] {
        var output: [Int] = []
        if addSpecial, special.addBOS, let bos = special.bos { output.append(bos) }
        for piece in pieces.coalesced {
            switch piece {
            case .control(let token): appendEncoded(token, parseSpecial: true, into: &output)
            case .text(let text): appendEncoded(text, parseSpecial: false, into: &output)
            }
        }
        if addSpecial, special.addEOS, let eos = special.eos { output.append(eos) }
        return output
    }
}
