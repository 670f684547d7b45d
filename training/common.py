"""Shared helpers: the daemon's rendering, the GGUF base model, the shared system-prompt prefix."""
import json
import os
import subprocess
import tempfile

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOOLROUTER = os.path.join(ROOT, ".build", "release", "toolrouter")
MODEL_DIR = os.path.join(ROOT, "models")
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def catalogue_path(name):
    return os.path.join(ROOT, "examples", "catalogues", f"{name}.tools.json")


def render_rows(catalogue, rows_path):
    """`toolrouter render-prompt --rows`: prompt text and ids, canonical completion and ids, end id."""
    out = subprocess.run([TOOLROUTER, "render-prompt", "--catalogue", catalogue, "--rows", rows_path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"render-prompt failed: {out.stderr.strip()}")
    return [json.loads(line) for line in out.stdout.splitlines()]


def render_prompts(catalogue, prompts):
    """Render user prompts only (targets are irrelevant): a throwaway no_tool target per row."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for p in prompts:
            f.write(json.dumps({"prompt": p, "target": {"tool": "no_tool", "reason": "x"}}) + "\n")
        path = f.name
    try:
        return [r["prompt_ids"] for r in render_rows(catalogue, path)]
    finally:
        os.unlink(path)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_base(dtype=torch.float32):
    """Base weights dequantised from the very GGUF the daemon serves, and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, dtype=dtype)
    return tok, model


def common_prefix(seqs):
    """Longest common prefix of token id lists (the catalogue's system prompt and the user header)."""
    first = seqs[0]
    n = len(first)
    for s in seqs[1:]:
        n = min(n, len(s))
        for i in range(n):
            if s[i] != first[i]:
                n = i
                break
    return first[:n]


def prefix_cache(model, prefix_ids, batch):
    """Run the shared prefix once (batch 1) and repeat its KV cache across the batch.

    Gradients flow back through the repeat into the single prefix pass, so a batch
    costs len(prefix) + batch * len(suffix) tokens instead of batch * (len(prefix) + len(suffix))."""
    out = decoder(model)(input_ids=torch.tensor([prefix_ids]), use_cache=True)
    cache = out.past_key_values
    if batch > 1:
        cache.batch_repeat_interleave(batch)
    return cache


def decoder(model):
    """The transformer body (LlamaModel) of a plain or PEFT-wrapped causal LM; lm_head is applied by the caller."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model


def lm_head(model):
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.lm_head


def suffix_forward(model, prefix_len, suffixes, cache, pad_id):
    """Forward right-padded suffixes on top of a prefix cache; returns hidden states [B, S, H]."""
    B, S = len(suffixes), max(len(s) for s in suffixes)
    ids = torch.full((B, S), pad_id, dtype=torch.long)
    mask = torch.zeros((B, prefix_len + S), dtype=torch.long)
    mask[:, :prefix_len] = 1
    for b, s in enumerate(suffixes):
        ids[b, :len(s)] = torch.tensor(s)
        mask[b, prefix_len:prefix_len + len(s)] = 1
    pos = torch.arange(prefix_len, prefix_len + S).unsqueeze(0).expand(B, S)
    return decoder(model)(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache,
                          use_cache=True).last_hidden_state
