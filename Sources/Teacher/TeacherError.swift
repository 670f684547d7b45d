// Why a teacher request failed. Every case names the URL it was sent to, so a user with a typo in
// `--teacher` or a server that refuses the model name sees which and what the server said.

/// A chat-completions request that did not produce an answer.
public enum TeacherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with a non-success status (after `attempts` tries when it was retryable).
    case http(url: String, status: Int, body: String, attempts: Int)
    /// No response: connection refused, reset, or timed out (after `attempts` tries).
    case unreachable(url: String, reason: String, attempts: Int)
    /// A 2xx response that is not a chat completion (no `choices[0].message.content`, not JSON).
    case malformedResponse(url: String, reason: String, body: String)
    /// The endpoint settings cannot be used (a bad URL, a missing key variable).
    case configuration(String)

    /// The problem in words.
    public var description: String {
        switch self {
        case .http(let url, let status, let body, let attempts):
            return "teacher \(url) answered HTTP \(status)\(Self.tries(attempts)): \(body.isEmpty ? "(empty body)" : body)"
        case .unreachable(let url, let reason, let attempts):
            return "teacher \(url) unreachable\(Self.tries(attempts)): \(reason)"
        case .malformedResponse(let url, let reason, let body):
            return "teacher \(url) sent an answer that is not a chat completion (\(reason)): \(body)"
        case .configuration(let message):
            return "teacher: \(message)"
        }
    }

    private static func tries(_ attempts: Int) -> String { attempts > 1 ? " after \(attempts) attempts" : "" }

    /// At most `limit` characters of a response body on one line, for error messages.
    static func excerpt(_ body: [UInt8], limit: Int = 300) -> String {
        let text = String(decoding: body.prefix(limit * 4), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}
