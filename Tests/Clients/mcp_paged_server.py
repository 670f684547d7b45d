"""A minimal MCP server speaking raw newline-delimited JSON-RPC on stdio (standard library only), for the
parts of the protocol the SDK's server does not exercise: `tools/list` over three pages (`nextCursor`),
tools the router must refuse one by one (a schema keyword it does not support, a name it cannot take), a
`ping` request from the server to the client, and a `tools/list_changed` notification on request.
"""
import json
import sys

PAGES = {
    None: ([{"name": "first_tool", "description": "The first tool.",
             "inputSchema": {"type": "object", "title": "Args", "properties": {"a": {"type": "string", "title": "A"}}, "required": ["a"]}}], "p2"),
    "p2": ([{"name": "bad.name", "inputSchema": {"type": "object"}},
            {"name": "unsupported_schema", "inputSchema": {"type": "object", "properties": {"x": {"type": "string", "pattern": "(?<=a)b"}}}}], "p3"),
    "p3": ([{"name": "last_tool", "title": "The last tool", "inputSchema": {"type": "object", "properties": {}}}], None),
}
changed = False


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    message = json.loads(line)
    method, ident = message.get("method"), message.get("id")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": ident, "result": {"protocolVersion": message["params"]["protocolVersion"],
                                                        "capabilities": {"tools": {"listChanged": True}},
                                                        "serverInfo": {"name": "paged", "version": "0"}}})
        send({"jsonrpc": "2.0", "id": "ping-1", "method": "ping"})
    elif method == "tools/list":
        tools, cursor = PAGES[message.get("params", {}).get("cursor")]
        if changed and cursor is None:
            tools = tools + [{"name": "added_tool", "inputSchema": {"type": "object"}}]
        result = {"tools": tools}
        if cursor:
            result["nextCursor"] = cursor
        send({"jsonrpc": "2.0", "id": ident, "result": result})
    elif method == "tools/call":
        name = message["params"]["name"]
        if name == "first_tool":
            changed = True
            send({"jsonrpc": "2.0", "id": ident, "result": {"content": [{"type": "text", "text": "ok " + message["params"]["arguments"]["a"]}]}})
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        else:
            send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": f"unknown tool {name}"}})
    elif ident == "ping-1":
        print("client answered ping: " + json.dumps(message), file=sys.stderr, flush=True)
