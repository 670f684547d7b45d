// One size limit for protocol lines: the JSON parser takes `max_message_bytes`, the framing limit,
// instead of its own 1 MiB default.

import Foundation
import JSON
import Testing
import TestSupport
@testable import Daemon

@Suite("Message size limit (real binary)", .serialized)
struct MessageLimitTests {
    @Test("max_message_bytes 4 MiB: a valid 2 MiB request is parsed and answered; the parser limit is the framing limit")
    func largeValidLine() throws {
        let limit = 4 << 20
        #expect(JSONLimits.protocolLine(maxBytes: limit).maxBytes == limit)
        let serve = try ServeChild(["--max-message-bytes", "\(limit)"], name: "size")
        defer { serve.child.stop() }
        let client = try serve.connect()
        // `health` padded with 2 MiB of insignificant whitespace: valid JSON, under the framing limit.
        let line = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"health\"" + String(repeating: " ", count: 2 << 20) + "}"
        let answer = try JSONParser.parse(try client.request(line, timeout: 60))
        #expect(answer["error"] == nil, "\(answer)")
        #expect(answer["result"]?["status"]?.stringValue == "ok")
        // Past the framing limit it is still `message too large`, from the framer.
        let tooLong = "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"health\"" + String(repeating: " ", count: limit) + "}"
        let refused = try JSONParser.parse(try client.request(tooLong, timeout: 60))
        #expect(refused["error"]?["code"]?.intValue == RPCErrorCode.messageTooLarge.rawValue)
    }
}
