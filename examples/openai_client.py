#!/usr/bin/env python3
"""An agent using ToolRouter through the official `openai` Python SDK, over the daemon's HTTP Unix socket.

    toolrouter serve --catalogue support=examples/catalogues/support.tools.json --adapter support=adapters/support \
        --agent-socket /tmp/agent.sock --handler-socket /tmp/handlers.sock --http-socket /tmp/http.sock
    .clients/bin/python examples/openai_client.py --socket /tmp/http.sock "Where is my order ORD-55821?"

`scripts/setup` installs the SDK into .clients/. Over TCP (`serve --http-listen 127.0.0.1:8080`) drop the
transport and use base_url="http://127.0.0.1:8080/v1" (with api_key = the token when one is configured).
"""
import argparse
import json

import httpx2  # the HTTP library this openai release is built on; httpx in older releases
import openai

parser = argparse.ArgumentParser()
parser.add_argument("--socket", default="/run/toolrouter/http.sock")
parser.add_argument("--model", default="support", help="a catalogue name (GET /v1/models lists them)")
parser.add_argument("--dispatch", action="store_true", help="also run the call through its registered handler")
parser.add_argument("request")
args = parser.parse_args()

client = openai.OpenAI(
    base_url="http://toolrouter/v1",   # the host is ignored on a Unix socket
    api_key="unused",                  # the socket's mode and peer checks decide who may connect
    http_client=openai.DefaultHttpxClient(transport=httpx2.HTTPTransport(uds=args.socket)),
)
completion = client.chat.completions.create(
    model=args.model,
    messages=[{"role": "user", "content": args.request}],
    extra_body={"toolrouter": {"dispatch": True}} if args.dispatch else None,
)
message = completion.choices[0].message
if message.tool_calls:
    call = message.tool_calls[0]
    print(f"{call.function.name}({call.function.arguments})  [{call.id}]")
    if args.dispatch:
        print("result:", json.dumps(completion.model_extra["toolrouter"].get("result")))
else:
    print("no tool:", message.content)
print(f"{completion.usage.prompt_tokens} prompt tokens, {completion.usage.completion_tokens} generated, "
      f"{completion.model_extra['toolrouter']['timings']['total_ms']} ms in the daemon")
