// Shared helpers: fixture loading and JSON literals.

import Foundation
import JSON
import ToolCalls

/// The path of a file in this test target's Fixtures folder (found next to this source file,
/// so the tests never read outside the repository).
func fixturePath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// Parses JSON text that the test itself wrote; a typo fails the test with the parser's message.
func json(_ text: String) throws -> JSONValue {
    try JSONParser.parse(text)
}

/// The support and devops demo catalogues.
func supportCatalogue() throws -> ToolCatalogue { try ToolCatalogue(contentsOf: fixturePath("support.tools.json")) }
func devopsCatalogue() throws -> ToolCatalogue { try ToolCatalogue(contentsOf: fixturePath("devops.tools.json")) }
