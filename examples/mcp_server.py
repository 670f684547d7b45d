#!/usr/bin/env python3
"""An MCP tool server written with the official `mcp` Python SDK (2.x: `MCPServer`), for ToolRouter.

ToolRouter spawns it (config: "mcp_servers": [{"name": "notes", "command": ".clients/bin/python",
"args": ["examples/mcp_server.py"]}]), speaks MCP to it over stdio, turns its tools into the catalogue
"notes", and sends the calls it routes there as `tools/call`. Run by hand it waits for MCP on stdin.

Tools: add_note / list_notes (an in-memory notebook), convert_temperature (an error for an unknown unit),
and three that exist for the tests: `hold` (never answers: says "holding" on stderr and waits, so a call is
in flight when the server is killed), `enable_archive` (adds the `archive_note` tool and tells the client its
tool list changed) and `broken` (always reports an error).
"""
import asyncio
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("toolrouter-notes")
notes: list[str] = []


@server.tool(description="Add a note to the notebook.")
def add_note(text: str) -> dict:
    notes.append(text)
    return {"saved": text, "count": len(notes)}


@server.tool(description="List the notes in the notebook, newest first.")
def list_notes() -> dict:
    return {"notes": list(reversed(notes))}


@server.tool(description="Convert a temperature between celsius and fahrenheit.")
def convert_temperature(value: float, unit: str) -> str:
    if unit not in ("celsius", "fahrenheit"):
        raise ToolError(f"unknown unit {unit!r}: use celsius or fahrenheit")
    converted = value * 9 / 5 + 32 if unit == "celsius" else (value - 32) * 5 / 9
    return f"{converted:.1f} {'fahrenheit' if unit == 'celsius' else 'celsius'}"


@server.tool(description="Hold the line and never answer (for tests).")
async def hold() -> str:
    print(f"holding in process {os.getpid()}", file=sys.stderr, flush=True)
    await asyncio.sleep(3600)
    return "held"


@server.tool(description="Always fail (for tests).")
def broken(reason: str) -> str:
    raise ToolError(f"broken on purpose: {reason}")


def archive_note(index: int) -> str:
    """Archive the note at this position."""
    return f"archived note {index}"


@server.tool(description="Turn on the archive tool (the tool list changes).")
async def enable_archive(ctx: Context) -> str:
    server.add_tool(archive_note, description="Archive the note at this position.")
    await ctx.session.send_tool_list_changed()
    return "archive enabled"


if __name__ == "__main__":
    server.run("stdio")
