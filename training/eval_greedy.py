#!/usr/bin/env python3
"""Proxy eval: unconstrained greedy decoding of the gold prompts with the HF model, base and adapter.

    nice -n 10 training/.venv/bin/python training/eval_greedy.py --catalogue support \
        --gold training/gold/support.dev.jsonl --adapter adapters/support [--skip-base] [--json OUT]

Prompts are rendered by `toolrouter render-prompt`. No grammar is applied here (the daemon's
constrained decoder can only do better on validity). Metrics:
  valid_json        output parses as a JSON object with a string "tool"
  tool_accuracy     predicted tool == gold tool (no_tool included), over all rows
  arg_match         over rows whose gold is a real tool and whose output is valid JSON:
                    right tool and arguments equal after JSON parsing (exact values)
  arg_match_relaxed the same, free-text strings compared ignoring case, spaces and punctuation
  false_tool_call   rows whose gold is no_tool but a real tool was called, over the no_tool rows
"""
import argparse
import copy
import json
import os
import re
import sys
import time

import torch

import common


def greedy(model, cache0, prefix_len, suffix, end_id, max_new):
    cache = copy.deepcopy(cache0)
    ids, pos, out = suffix, prefix_len, []
    head, body = common.lm_head(model), common.decoder(model)
    for _ in range(max_new):
        x = torch.tensor([ids])
        p = torch.arange(pos, pos + len(ids)).unsqueeze(0)
        h = body(input_ids=x, position_ids=p, past_key_values=cache, use_cache=True).last_hidden_state
        nxt = int(head(h[0, -1]).argmax())
        pos += len(ids)
        if nxt == end_id:
            break
        out.append(nxt)
        ids = [nxt]
    return out


def norm_text(v):
    if isinstance(v, str):
        return re.sub(r"[\W_]+", "", v.lower())
    if isinstance(v, dict):
        return {k: norm_text(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm_text(x) for x in v]
    return v


def parse(text):
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("tool"), str):
        return None
    return obj


def evaluate(model, tok, catalogue, gold, max_new, label):
    prompt_ids = common.render_prompts(catalogue, [g["prompt"] for g in gold])
    prefix = common.common_prefix(prompt_ids)
    end_id = tok.convert_tokens_to_ids("<|im_end|>")
    rows, t0 = [], time.time()
    with torch.no_grad():
        model.eval()
        cache0 = common.prefix_cache(model, prefix, 1)
        for g, ids in zip(gold, prompt_ids):
            out = greedy(model, cache0, len(prefix), ids[len(prefix):], end_id, max_new)
            text = tok.decode(out)
            rows.append({"prompt": g["prompt"], "target": g["target"], "output": text, "parsed": parse(text)})
    seconds = time.time() - t0
    n = len(rows)
    valid = [r for r in rows if r["parsed"] is not None]
    tool_ok = [r for r in valid if r["parsed"]["tool"] == r["target"]["tool"]]
    gold_tool = [r for r in valid if r["target"]["tool"] != "no_tool"]
    arg_ok = [r for r in gold_tool if r["parsed"]["tool"] == r["target"]["tool"]
              and r["parsed"].get("arguments") == r["target"]["arguments"]]
    arg_relaxed = [r for r in gold_tool if r["parsed"]["tool"] == r["target"]["tool"]
                   and norm_text(r["parsed"].get("arguments")) == norm_text(r["target"]["arguments"])]
    no_tool_rows = [r for r in rows if r["target"]["tool"] == "no_tool"]
    false_calls = [r for r in no_tool_rows if r["parsed"] is not None and r["parsed"]["tool"] != "no_tool"]
    metrics = {
        "model": label, "rows": n, "no_tool_rows": len(no_tool_rows),
        "valid_json": len(valid) / n, "tool_accuracy": len(tool_ok) / n,
        "arg_match": len(arg_ok) / max(1, len(gold_tool)), "arg_match_relaxed": len(arg_relaxed) / max(1, len(gold_tool)),
        "arg_match_rows": f"{len(arg_ok)}/{len(gold_tool)}",
        "false_tool_call": len(false_calls) / max(1, len(no_tool_rows)),
        "false_tool_call_over_all_rows": len(false_calls) / n, "seconds": round(seconds, 1),
    }
    return metrics, rows


def failures(rows):
    out = []
    for r in rows:
        p, t = r["parsed"], r["target"]
        ok = p is not None and p["tool"] == t["tool"] and (t["tool"] == "no_tool" or p.get("arguments") == t["arguments"])
        if not ok:
            out.append({"prompt": r["prompt"], "want": t, "got": r["output"]})
    return out


def fmt(m):
    return (f"{m['model']:<28} valid_json {m['valid_json']:6.1%}  tool_acc {m['tool_accuracy']:6.1%}  "
            f"arg_match {m['arg_match']:6.1%} ({m['arg_match_rows']}, relaxed {m['arg_match_relaxed']:.1%})  "
            f"false_tool_call {m['false_tool_call']:6.1%}  [{m['seconds']}s]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalogue", required=True)
    ap.add_argument("--gold", required=True)
    ap.add_argument("--adapter", help="PEFT adapter directory")
    ap.add_argument("--skip-base", action="store_true")
    ap.add_argument("--max-new", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write metrics and failures here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    catalogue = common.catalogue_path(args.catalogue)
    gold = common.read_jsonl(args.gold)
    tok, model = common.load_base()
    results = {}
    if not args.skip_base:
        m, rows = evaluate(model, tok, catalogue, gold, args.max_new, "base")
        print(fmt(m), flush=True)
        results["base"] = {"metrics": m, "failures": failures(rows)}
    if args.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, args.adapter)
        m, rows = evaluate(model, tok, catalogue, gold, args.max_new, f"adapter {os.path.relpath(args.adapter, common.ROOT)}")
        print(fmt(m), flush=True)
        results["adapter"] = {"metrics": m, "failures": failures(rows)}
        for f in results["adapter"]["failures"]:
            print(f"  MISS {f['prompt'][:90]!r}\n       want {json.dumps(f['want'], ensure_ascii=False)}\n       got  {f['got']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
