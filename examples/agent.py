#!/usr/bin/env python3
"""A ToolRouter agent client in plain Python (standard library only).

Sends requests to the daemon's agent socket (newline-delimited JSON-RPC 2.0) and prints the answers.

    python3 examples/agent.py --socket /run/toolrouter/agent.sock --catalogue support "Where is my order ORD-1234?"
    python3 examples/agent.py --method route ...      # decide and validate only, execute nothing

Requests may be pipelined on one connection; answers carry the request's id.
"""
import argparse, json, socket, sys

class Agent:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.stream = self.sock.makefile("rwb")
        self.next_id = 1

    def request(self, method, params=None):
        """Sends one request and returns (result, error): exactly one of them is None."""
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.next_id += 1
        self.stream.write((json.dumps(message, separators=(",", ":")) + "\n").encode())
        self.stream.flush()
        line = self.stream.readline()
        if not line:
            raise ConnectionError("the daemon closed the connection")
        reply = json.loads(line)
        return reply.get("result"), reply.get("error")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", default="/run/toolrouter/agent.sock")
    ap.add_argument("--catalogue")
    ap.add_argument("--method", default="call", choices=["call", "route"])
    ap.add_argument("--deadline-ms", type=int)
    ap.add_argument("requests", nargs="+", help="requests in plain language")
    a = ap.parse_args()
    agent = Agent(a.socket)
    failed = 0
    for text in a.requests:
        params = {"input": text}
        if a.catalogue:
            params["catalogue"] = a.catalogue
        if a.deadline_ms:
            params["deadline_ms"] = a.deadline_ms
        result, error = agent.request(a.method, params)
        if error:
            failed += 1
            print(f"{text!r} -> error {error['code']}: {error['message']}")
        else:
            timing = result["timings"]["total_ms"]
            print(f"{text!r} -> {json.dumps(result['call'])} ({timing} ms)")
            if a.method == "call" and result.get("result") is not None:
                print(f"    handler result: {json.dumps(result['result'])}")
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
