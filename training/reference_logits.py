#!/usr/bin/env python3
"""Reference first-step logits for the Swift engine's adapter support, computed independently with torch.

    ~/.cache/toolrouter/train-venv/bin/python training/reference_logits.py   # the venv `toolrouter train` made

For 4 support requests (ids from `toolrouter render-prompt`, then the output's forced opening
`{"tool":"`, so the step compared is the choice of tool), runs a plain full forward pass in
float64 over the GGUF-dequantised base (Hugging Face layout: transformers undoes the GGUF q/k RoPE
row permutation), once with the PEFT adapter applied unmerged (y = Wx + alpha/r * B(Ax)) and once
without, and writes the 20 largest logits of the step after the prompt:

    training/reference/support-adapter-logits.json
    training/reference/base-logits.json

The base file calibrates the comparison: the engine's base logits vs this file show the tolerance
its own arithmetic needs, and the adapter file should then agree within about the same tolerance.
"""
import argparse
import hashlib
import json
import os
import subprocess
import tempfile

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOOLROUTER = os.path.join(ROOT, ".build", "release", "toolrouter")
MODEL_DIR = os.path.join(ROOT, "models")
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CATALOGUE = "examples/catalogues/support.tools.json"

PROMPTS = [
    "Where is my order ORD-55821? It was supposed to arrive yesterday.",
    "I want a refund for order ORD-1234, the kettle arrived broken.",
    "Please send order ORD-77340012 to 12 Rue de la Paix, 75002 Paris, France instead.",
    "Hi! Thanks for the quick help last week.",
]


FORCED = '{"tool":"'


def render_prompts(prompts):
    """The daemon's prompt ids for each request (`toolrouter render-prompt --rows`; the targets do not matter)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for p in prompts:
            f.write(json.dumps({"prompt": p, "target": {"tool": "no_tool", "reason": "x"}}) + "\n")
        path = f.name
    try:
        out = subprocess.run([TOOLROUTER, "render-prompt", "--catalogue", os.path.join(ROOT, CATALOGUE), "--rows", path],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"render-prompt failed: {out.stderr.strip()}")
        return [json.loads(line)["prompt_ids"] for line in out.stdout.splitlines()]
    finally:
        os.unlink(path)


def load_base():
    """Base weights dequantised from the very GGUF the daemon serves, and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, dtype=torch.float32)
    return tok, model


def first_step(model, ids, k):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
    top = torch.topk(logits, k)
    f32 = logits.to(torch.float32).numpy().astype("<f4").tobytes()
    return {"prompt_ids": ids,
            "top": [[int(i), round(float(v), 5)] for v, i in zip(top.values, top.indices)],
            "logits_sha": hashlib.sha256(f32).hexdigest(),
            "logits_stats": {"mean": round(float(logits.mean()), 5), "std": round(float(logits.std()), 5),
                             "max": round(float(logits.max()), 5), "min": round(float(logits.min()), 5)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", default="adapters/support")
    ap.add_argument("--out-dir", default="training/reference")
    ap.add_argument("--top", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(os.path.join(ROOT, args.out_dir), exist_ok=True)
    tok, model = load_base()
    # Each prompt continues with the output's forced opening, so the step compared is the tool-name choice.
    opening = tok(FORCED, add_special_tokens=False)["input_ids"]
    ids = [p + opening for p in render_prompts(PROMPTS)]
    model = model.to(torch.float64).eval()
    common_fields = {
        "model": MODEL_FILE, "catalogue": CATALOGUE,
        "prompts": PROMPTS, "forced_opening": FORCED, "dtype": "float64 forward on float32-dequantised GGUF weights",
        "logits_sha": "sha256 of the full first-step logits as little-endian float32 (bookkeeping only; no engine matches it bit for bit)",
        "note": ("Hugging Face weight layout: q/k rows are in rotate-half order, so an engine using the GGUF (interleaved) "
                 "layout must permute the q_proj/k_proj lora_B rows per head ([heads, 2, head/2] -> swap the middle axes) "
                 "before use; v/o/MLP need nothing."),
    }
    base_rows = [first_step(model, x, args.top) for x in ids]
    with open(os.path.join(ROOT, args.out_dir, "base-logits.json"), "w") as f:
        json.dump({"adapter": None, **common_fields, "rows": base_rows}, f, indent=1)

    from peft import PeftModel
    model = PeftModel.from_pretrained(model, os.path.join(ROOT, args.adapter)).to(torch.float64).eval()
    cfg = json.load(open(os.path.join(ROOT, args.adapter, "adapter_config.json")))
    rows = [first_step(model, x, args.top) for x in ids]
    with open(os.path.join(ROOT, args.out_dir, "support-adapter-logits.json"), "w") as f:
        json.dump({"adapter": args.adapter, **common_fields,
                   "lora": {k: cfg[k] for k in ("r", "lora_alpha", "target_modules", "use_rslora")},
                   "rows": rows}, f, indent=1)
    for b, a in zip(base_rows, rows):
        print(f"{len(a['prompt_ids'])} ids  base top {b['top'][0]} ({tok.decode([b['top'][0][0]])!r})  "
              f"adapter top {a['top'][0]} ({tok.decode([a['top'][0][0]])!r})")


if __name__ == "__main__":
    main()
