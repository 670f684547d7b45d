"""Drives a running ToolRouter daemon with the official `openai` Python SDK, as an agent loop would.

Run by DaemonTests/OpenAISDKTests (which starts the daemon with the support catalogue and adapter, a
handler for it, an HTTP Unix socket and loopback TCP with a token). Every check asserts; the first
failure raises and the exit status is non-zero. Prints one line per check.

    .clients/bin/python Tests/Clients/openai_sdk_check.py --uds PATH --tcp http://127.0.0.1:PORT --token TOKEN \\
        --catalogue-file examples/catalogues/support.tools.json
"""
import argparse
import json
import sys

import httpx2
import openai

ORDER = "Where is my order ORD-12345?"


def client_over_uds(path):
    transport = httpx2.HTTPTransport(uds=path)
    return openai.OpenAI(base_url="http://toolrouter/v1", api_key="unused-on-the-unix-socket",
                         http_client=openai.DefaultHttpxClient(transport=transport), max_retries=0)


def user(text):
    return [{"role": "user", "content": text}]


def check(name, condition, detail=""):
    if not condition:
        raise AssertionError(f"{name}: {detail}")
    print(f"ok  {name}")


def expect_400(name, param, **kwargs):
    try:
        client.chat.completions.create(**kwargs)
    except openai.BadRequestError as error:
        body = error.body or {}
        check(name, error.status_code == 400 and body.get("param") == param,
              f"status {error.status_code}, body {body}")
        return
    raise AssertionError(f"{name}: answered instead of 400 (param {param})")


def call_of(completion):
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []
    return choice, calls


parser = argparse.ArgumentParser()
parser.add_argument("--uds", required=True)
parser.add_argument("--tcp", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--catalogue-file", required=True)
args = parser.parse_args()
client = client_over_uds(args.uds)

# Models: every catalogue, and the base model for inline tools.
models = [m.id for m in client.models.list().data]
check("models list the catalogue and the base model", "support" in models and "toolrouter" in models, models)

# tool_choice auto: a call, with a non-empty unique id, arguments as a JSON string, usage.
first = client.chat.completions.create(model="support", messages=user(ORDER))
choice, calls = call_of(first)
check("auto: one call of track_order", len(calls) == 1 and calls[0].function.name == "track_order", choice)
check("auto: arguments are a JSON string", json.loads(calls[0].function.arguments) == {"order_id": "ORD-12345"}, calls[0])
check("auto: finish_reason tool_calls, type function", choice.finish_reason == "tool_calls" and calls[0].type == "function", choice)
second = client.chat.completions.create(model="support", messages=user(ORDER))
check("call ids are non-empty, call_…, unique", calls[0].id.startswith("call_") and len(calls[0].id) > 5
      and calls[0].id != second.choices[0].message.tool_calls[0].id, (calls[0].id, second.choices[0].message.tool_calls[0].id))
check("usage counts tokens", first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
      and first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens, first.usage)

# auto on small talk: no tool, the reason as text.
chat = client.chat.completions.create(model="support", messages=user("Thanks so much, have a lovely evening!"))
check("auto: small talk gets text and finish_reason stop", chat.choices[0].finish_reason == "stop"
      and not chat.choices[0].message.tool_calls and chat.choices[0].message.content, chat.choices[0])

# tool_choice none: never a call.
none = client.chat.completions.create(model="support", messages=user(ORDER), tool_choice="none")
check("none: text, no call", none.choices[0].finish_reason == "stop" and not none.choices[0].message.tool_calls
      and none.choices[0].message.content, none.choices[0])

# tool_choice required: a call even for small talk.
required = client.chat.completions.create(model="support", messages=user("Thanks so much, have a lovely evening!"), tool_choice="required")
check("required: a call even for small talk", required.choices[0].finish_reason == "tool_calls"
      and len(required.choices[0].message.tool_calls) == 1, required.choices[0])

# tool_choice naming a function.
named = client.chat.completions.create(model="support", messages=user("I want my money back for ORD-55555, it arrived broken."),
                                       tool_choice={"type": "function", "function": {"name": "escalate"}})
check("named function: that function is called", named.choices[0].message.tool_calls[0].function.name == "escalate", named.choices[0])

# Streaming: the deltas add up to the same call; a last chunk carries the usage.
stream = client.chat.completions.create(model="support", messages=user(ORDER), stream=True, stream_options={"include_usage": True})
name, arguments, ids, finish, usage = None, "", set(), None, None
for chunk in stream:
    if chunk.usage:
        usage = chunk.usage
    for delta_choice in chunk.choices:
        for delta in delta_choice.delta.tool_calls or []:
            if delta.id:
                ids.add(delta.id)
            if delta.function and delta.function.name:
                name = delta.function.name
            if delta.function and delta.function.arguments:
                arguments += delta.function.arguments
        finish = delta_choice.finish_reason or finish
check("stream: deltas give the same call", name == "track_order" and json.loads(arguments) == {"order_id": "ORD-12345"}
      and len(ids) == 1, (name, arguments, ids))
check("stream: finish_reason and usage", finish == "tool_calls" and usage is not None and usage.total_tokens > 0, (finish, usage))
text_stream = client.chat.completions.create(model="support", messages=user(ORDER), stream=True, tool_choice="none")
content = "".join(c.choices[0].delta.content or "" for c in text_stream if c.choices)
check("stream: text answers stream as content", len(content) > 0, content)

# Inline tools: a catalogue compiled for the request, routed with the base model.
weather = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "x-from-input": True}},
                   "required": ["city"], "additionalProperties": False}}}]
inline = client.chat.completions.create(model="toolrouter", messages=user("What's the weather like in Lisbon today?"),
                                        tools=weather, tool_choice="required")
_, calls = call_of(inline)
inline_args = json.loads(calls[0].function.arguments)
check("inline tools: a valid call of the request's own tool", calls[0].function.name == "get_weather"
      and inline_args.get("city") in "What's the weather like in Lisbon today?", calls[0])
again = client.chat.completions.create(model="toolrouter", messages=user("What's the weather like in Lisbon today?"),
                                       tools=weather, tool_choice="required")
check("inline tools: same tools, same answer (cached catalogue)", again.choices[0].message.tool_calls[0].function.arguments
      == calls[0].function.arguments)
with open(args.catalogue_file) as f:
    support_tools = json.load(f)
same = client.chat.completions.create(model="support", messages=user(ORDER), tools=support_tools)
check("inline tools equal to a catalogue's are served by it (adapter included)",
      same.model_extra["toolrouter"]["catalogue"] == "support" and same.choices[0].message.tool_calls[0].function.name == "track_order",
      same.model_extra)

# History: a tool result after the user's request is the final answer; a new user turn is routed.
history = user(ORDER) + [
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                                           "function": {"name": "track_order", "arguments": "{\"order_id\":\"ORD-12345\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"status\": \"in transit\", \"eta_days\": 2}"},
]
final = client.chat.completions.create(model="support", messages=history)
check("history: after the tool result, its text is the reply", final.choices[0].finish_reason == "stop"
      and "in transit" in (final.choices[0].message.content or ""), final.choices[0])
follow_up = client.chat.completions.create(model="support", messages=history + user("And where is ORD-77777?"))
check("history: a new user turn is routed", follow_up.choices[0].message.tool_calls
      and json.loads(follow_up.choices[0].message.tool_calls[0].function.arguments) == {"order_id": "ORD-77777"}, follow_up.choices[0])

# Dispatch through the registered handler (the ToolRouter extension): the result comes beside the call.
dispatched = client.chat.completions.create(model="support", messages=user(ORDER), extra_body={"toolrouter": {"dispatch": True}})
extension = dispatched.model_extra.get("toolrouter") or {}
check("dispatch: the handler's result beside the call", (extension.get("result") or {}).get("status") == "in transit"
      and dispatched.choices[0].message.tool_calls[0].function.name == "track_order", extension)

# Refused parameters: 400 naming each.
expect_400("n > 1 is refused", "n", model="support", messages=user(ORDER), n=2)
expect_400("temperature > 0 is refused", "temperature", model="support", messages=user(ORDER), temperature=0.7)
expect_400("logprobs is refused", "logprobs", model="support", messages=user(ORDER), logprobs=True)
expect_400("parallel_tool_calls true is refused", "parallel_tool_calls", model="support", messages=user(ORDER), parallel_tool_calls=True)
expect_400("response_format json_schema is refused", "response_format", model="support", messages=user(ORDER),
           response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}})
expect_400("an unknown field is refused", "frobnicate", model="support", messages=user(ORDER), extra_body={"frobnicate": 1})
expect_400("a tool result answering no call is refused", "messages[1].tool_call_id", model="support",
           messages=user(ORDER) + [{"role": "tool", "tool_call_id": "call_nope", "content": "x"}])
expect_400("a named function outside the tools is refused", "tool_choice", model="toolrouter", messages=user(ORDER),
           tools=weather, tool_choice={"type": "function", "function": {"name": "track_order"}})
expect_400("other tools under a catalogue's model are refused", "tools", model="support", messages=user(ORDER), tools=weather)
try:
    client.chat.completions.create(model="nonesuch", messages=user(ORDER))
    raise AssertionError("unknown model answered")
except openai.NotFoundError as error:
    check("an unknown model is 404 model_not_found", error.body.get("code") == "model_not_found" and error.body.get("param") == "model", error.body)

# The plain endpoints and HTTP-level errors, with the SDK's HTTP client.
raw = httpx2.Client(transport=httpx2.HTTPTransport(uds=args.uds), base_url="http://toolrouter")
health = raw.get("/health")
check("GET /health", health.status_code == 200 and health.json()["status"] == "ok", health.text)
metrics = raw.get("/metrics")
check("GET /metrics is the Prometheus text", metrics.status_code == 200 and "toolrouter_requests_total{" in metrics.text
      and metrics.headers["content-type"].startswith("text/plain"), metrics.headers)
bad_json = raw.post("/v1/chat/completions", content=b"{not json")
check("a body that is not JSON is 400", bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]["message"], bad_json.text)
huge = raw.post("/v1/chat/completions", content=b"x" * (2 << 20))
check("a body over max_message_bytes is 413", huge.status_code == 413, huge.text)
raw = httpx2.Client(transport=httpx2.HTTPTransport(uds=args.uds), base_url="http://toolrouter")   # the 413 closed that connection
check("an unknown path is 404", raw.get("/v2/everything").status_code == 404)
check("a wrong method is 405", raw.delete("/v1/models").status_code == 405)

# Loopback TCP: the token is required.
tcp = openai.OpenAI(base_url=args.tcp + "/v1", api_key=args.token, max_retries=0)
over_tcp = tcp.chat.completions.create(model="support", messages=user(ORDER))
check("tcp: routed with the right token", over_tcp.choices[0].message.tool_calls[0].function.name == "track_order")
try:
    openai.OpenAI(base_url=args.tcp + "/v1", api_key="wrong", max_retries=0).models.list()
    raise AssertionError("a wrong token was accepted")
except openai.AuthenticationError as error:
    check("tcp: a wrong token is 401", error.status_code == 401, error.body)
tcp_stream = tcp.chat.completions.create(model="support", messages=user(ORDER), stream=True)
streamed = "".join((d.function.arguments or "") for c in tcp_stream if c.choices for d in (c.choices[0].delta.tool_calls or []) if d.function)
check("tcp: streaming", json.loads(streamed) == {"order_id": "ORD-12345"}, streamed)
print("all checks passed")
