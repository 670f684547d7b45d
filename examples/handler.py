#!/usr/bin/env python3
"""A ToolRouter tool handler in plain Python (standard library only).

It connects to the daemon's handler socket, registers tools of one catalogue, and answers every
`invoke {"tool", "arguments"}` request with a made-up result for the demo catalogues.

    python3 examples/handler.py --socket /run/toolrouter/handlers.sock --catalogue support

Protocol (newline-delimited JSON-RPC 2.0 on the handler socket):
    -> {"jsonrpc":"2.0","id":1,"method":"register","params":{"catalogue":"support","tools":["track_order",...]}}
    <- {"jsonrpc":"2.0","id":1,"result":{"registered":[...]}}
    <- {"jsonrpc":"2.0","id":7,"method":"invoke","params":{"tool":"track_order","arguments":{"order_id":"ORD-1234"}}}
    -> {"jsonrpc":"2.0","id":7,"result":{...}}            (or "error": {"code": ..., "message": ...})

--delay and --die-after exist for tests: answer slowly, or exit in the middle of a call.
"""
import argparse, json, os, socket, sys, time

TOOLS = {
    "support": ["track_order", "request_refund", "update_address", "escalate"],
    "devops": ["get_service_status", "restart_service", "scale_deployment", "query_logs", "page_oncall", "create_ticket"],
}

def answer(tool, args):
    """A plausible result for each demo tool."""
    if tool == "track_order":
        return {"order_id": args.get("order_id"), "status": "in transit", "eta_days": 2}
    if tool == "request_refund":
        return {"order_id": args.get("order_id"), "refund": "filed", "amount": args.get("amount", "full")}
    if tool == "update_address":
        return {"order_id": args.get("order_id"), "address": args.get("address"), "updated": True}
    if tool == "escalate":
        return {"ticket": "ESC-1042", "priority": args.get("priority", "normal")}
    if tool == "get_service_status":
        return {"service": args.get("service"), "status": "healthy", "replicas": 3}
    if tool == "restart_service":
        return {"service": args.get("service"), "restarted": True, "forced": bool(args.get("force"))}
    if tool == "scale_deployment":
        return {"name": args.get("name"), "replicas": args.get("replicas")}
    if tool == "query_logs":
        return {"service": args.get("service"), "lines": ["12:01 error timeout talking to db"]}
    if tool == "page_oncall":
        return {"paged": args.get("team"), "severity": args.get("severity")}
    if tool == "create_ticket":
        return {"ticket": "OPS-311", "title": args.get("title")}
    return {"ok": True}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", default="/run/toolrouter/handlers.sock")
    ap.add_argument("--catalogue", default="support", choices=sorted(TOOLS))
    ap.add_argument("--tools", help="comma-separated subset of the catalogue's tools")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    ap.add_argument("--die-after", type=int, default=0, help="exit without answering on the Nth invoke")
    a = ap.parse_args()
    tools = a.tools.split(",") if a.tools else TOOLS[a.catalogue]

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(a.socket)
    stream = sock.makefile("rwb")
    def send(message):
        stream.write((json.dumps(message, separators=(",", ":")) + "\n").encode())
        stream.flush()

    send({"jsonrpc": "2.0", "id": 1, "method": "register", "params": {"catalogue": a.catalogue, "tools": tools}})
    reply = json.loads(stream.readline())
    if "error" in reply:
        print(f"handler: registration refused: {reply['error']['message']}", file=sys.stderr)
        return 1
    print(f"handler: registered {', '.join(reply['result']['registered'])} of {a.catalogue}", file=sys.stderr, flush=True)

    invokes = 0
    for line in stream:
        message = json.loads(line)
        if message.get("method") != "invoke":
            continue
        invokes += 1
        if a.die_after and invokes >= a.die_after:
            os._exit(3)   # in the middle of a call, without a word
        if a.delay:
            time.sleep(a.delay)
        params = message.get("params", {})
        result = answer(params.get("tool"), params.get("arguments", {}))
        result["handler_pid"] = os.getpid()
        send({"jsonrpc": "2.0", "id": message["id"], "result": result})
    return 0

if __name__ == "__main__":
    sys.exit(main())
