// The parser never nests deeper than the bound every recursive walk shares, whatever a caller asks:
// every value it returns can be walked recursively by the rest of the program.

import JSON
import Testing

@Suite struct NestingLimitTests {
    @Test func parserDepthIsClampedToTheSharedBound() throws {
        let limit = NestingLimit.depth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        _ = try JSONParser.parse(deepest, limits: JSONLimits(maxDepth: 100_000))
        let deeper = "[" + deepest + "]"
        #expect(throws: JSONParseError.nestingTooDeep(limit: limit, at: JSONLocation(offset: limit, line: 1, column: limit + 1))) {
            try JSONParser.parse(deeper, limits: JSONLimits(maxDepth: 100_000))
        }
    }
}
