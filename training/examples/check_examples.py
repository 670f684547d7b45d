#!/usr/bin/env python3
"""Checks an examples file's verbatim rule and prints its coverage.

Usage: python3 training/examples/check_examples.py CATALOGUE.tools.json EXAMPLES.jsonl

Schema validity is `toolrouter render-prompt --rows`'s job; this script checks what a schema cannot: every string
argument that is neither an enum value nor one of the documented conversions (a 2-letter country code, a 24-hour
HH:MM time) must occur verbatim in its prompt, since the generator finds its slots that way. It also prints rows
per tool, the no_tool share and how often each optional argument is present, so gaps in coverage are visible.
Exit status 1 when a row breaks the verbatim rule.
"""
import collections
import json
import sys

# Patterns whose values are written differently in the request (conventions in training/README.md).
CONVERTED_PATTERNS = {"^[A-Z]{2}$", "^([01][0-9]|2[0-3]):[0-5][0-9]$"}


def strings_to_check(schema, value, pointer):
    """Yields (pointer, string) for each string argument that must appear verbatim in the prompt."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_to_check(schema["properties"][key], item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings_to_check(schema["items"], item, f"{pointer}/{index}")
    elif isinstance(value, str):
        if "enum" not in schema and schema.get("pattern") not in CONVERTED_PATTERNS:
            yield pointer, value


def main(catalogue_path, examples_path):
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in json.load(open(catalogue_path))}
    tools = collections.Counter()
    optional = collections.Counter()
    failures = 0
    with open(examples_path, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    for number, row in enumerate(rows, 1):
        target = row["target"]
        tools[target["tool"]] += 1
        if target["tool"] == "no_tool":
            continue
        schema = schemas[target["tool"]]
        for key in target["arguments"]:
            if key not in schema.get("required", []):
                optional[f"{target['tool']}.{key}"] += 1
        for pointer, text in strings_to_check(schema, target["arguments"], ""):
            if text not in row["prompt"]:
                print(f"{examples_path}:{number}: {pointer} {text!r} is not in the prompt")
                failures += 1
    share = 100 * tools["no_tool"] / max(len(rows), 1)
    print(f"{len(rows)} rows, no_tool {share:.0f}%: " + ", ".join(f"{t} {c}" for t, c in tools.items()))
    print("optional arguments present: " + ", ".join(f"{k} {c}" for k, c in sorted(optional.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
