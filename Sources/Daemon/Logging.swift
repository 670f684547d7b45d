// Log lines on stderr, shaped for journald when it is listening.
//
// Under systemd, stderr is a journal stream (`JOURNAL_STREAM` is set) and a line that starts with
// `<N>` gets syslog priority N. Elsewhere a line starts with a UTC timestamp and the level. Either
// way one event is one line, written with a single write(2) so concurrent lines never interleave.
// Metadata follows the message as `key=value` pairs, sorted, values quoted when they hold spaces.

import Foundation
import Logging

/// A swift-log handler writing one line per event to stderr.
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    /// Writes `<N>` priority prefixes instead of timestamps (stderr is a journald stream).
    public let journal: Bool
    private let label: String

    /// A handler for `label` at `level`; `journal` defaults to whether `JOURNAL_STREAM` is set.
    public init(label: String, level: Logger.Level = .info,
                journal: Bool = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil) {
        self.label = label
        self.logLevel = level
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        if let error = event.error { all["error"] = "\(error)" }
        let text = Self.format(level: event.level, label: label, message: "\(event.message)", metadata: all, journal: journal, now: Date())
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(2, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }

    /// One formatted line, newline included.
    static func format(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
                       journal: Bool, now: Date) -> String {
        var line = journal ? "<\(priority(level))>" : "\(timestamp(now)) \(level) "
        line += "\(label): \(oneLine(message))"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(value(metadata[key].map { "\($0)" } ?? ""))"
        }
        return line + "\n"
    }

    /// syslog priority of a level (journald reads it from the `<N>` prefix).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Newlines and other control characters escaped, so an event stays one line.
    private static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// A metadata value, quoted (JSON-style) when it is empty or holds spaces, quotes or `=`.
    private static func value(_ text: String) -> String {
        let plain = oneLine(text)
        guard plain.isEmpty || plain.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return plain }
        return "\"" + plain.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
