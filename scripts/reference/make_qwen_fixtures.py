#!/usr/bin/env python3
# Tiny random-weight Qwen2 / Qwen3 GGUF fixtures, with llama.cpp's logits and tokenizations as the reference.
#
# Ran as (from the repository root):
#   .peers/bin/python scripts/reference/make_qwen_fixtures.py
# Needs: numpy, gguf (gguf-py 0.19), llama_cpp (llama-cpp-python 0.3.36) in .peers
#   (python3 -m venv .peers && .peers/bin/pip install llama-cpp-python gguf numpy). No network, no other input.
# Writes, under Tests/InferenceTests/Fixtures/:
#   qwen2-tiny.gguf        arch qwen2, F32, q/k/v biases, separate output.weight
#   qwen2-tiny-q8_0.gguf   the same weights with every 2-D matrix stored as Q8_0
#   qwen3-tiny.gguf        arch qwen3, F32, per-head q/k RMS norms, head_dim*heads != width, tied output
#   qwen-tiny-reference.json   metadata, llama.cpp token ids and full logits rows, llama.cpp tokenizations
# Every random draw comes from numpy default_rng with a fixed seed; the GGUF bytes are the same on every run (the
# script writes each file twice and compares SHA-256). It also runs its own float64 numpy forward pass on the
# dequantised weights and prints / records the largest |logit| difference against llama.cpp.
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import hashlib
import json
import re
import sys
import tempfile
from collections import Counter

import numpy as np
import gguf
from gguf.quants import dequantize, quantize

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures")

# ----------------------------------------------------------------------------------------------- tokenizer
# Training text for the BPE merges (written for this fixture).
CORPUS = """
The tool router reads a request, picks the right tool and fills in its arguments. When the user asks where an
order is, the router calls track_order with the order id; when the user wants a refund, it calls the refund tool.
It is a small model that runs on the CPU of an ordinary machine, so the engine has to be fast and it has to be
right. We test it against the reference with the same prompts, the same tokens and the same weights.
The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. I think that it's there
and that they're here; we've seen what you'll do, and I'd say it isn't what we'd want. Don't worry.
In the morning the weather was cold, then the sun came out and the afternoon was warm. People walked in the
park, talked with their friends and went home in the evening. Numbers like 12, 345 and 2024 appear in text too.
def main():
    return the_answer  # comment
Hello, world! How are you today? This is a test of the tokenizer and of the model, nothing more.
"""

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
N_MERGES = 300

# Python's `re` has no \p{L}; for training only, letters are [^\W\d_] and numbers \d (the corpus is ASCII).
_L = r"[^\W\d_]"
PRETOKEN = re.compile(
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
    rf"|(?:[^\r\n\w]|_)?{_L}+"  # [^\r\n\p{{L}}\p{{N}}]?\p{{L}}+
    r"|\d"
    r"| ?(?:[^\s\w]|_)+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_symbols():
    """GPT-2's byte -> printable unicode character table."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table = {}
    extra = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def learn_bpe():
    sym = byte_symbols()
    words = Counter()
    for piece in PRETOKEN.findall(CORPUS):
        words[tuple(sym[b] for b in piece.encode("utf-8"))] += 1
    merges = []
    vocab = [sym[b] for b in range(256)]
    known = set(vocab)
    while len(merges) < N_MERGES:
        pairs = Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        # most frequent pair; ties broken by the pair's text so the result never depends on dict order
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        # no frequency floor: once the frequent pairs are used up, pairs seen once still become merges
        merged = best[0] + best[1]
        merges.append(f"{best[0]} {best[1]}")
        if merged not in known:
            vocab.append(merged)
            known.add(merged)
        new_words = Counter()
        for w, n in words.items():
            out = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] += n
        words = new_words
    tokens = vocab + SPECIALS
    types = [1] * len(vocab) + [3] * len(SPECIALS)  # 1 = normal, 3 = control
    return tokens, types, merges


# ----------------------------------------------------------------------------------------------- models
QWEN2 = dict(arch="qwen2", name="qwen2-tiny", seed=20250102, n_layer=2, n_embd=64, n_head=4, n_head_kv=2,
             head_dim=16, n_ff=128, rope_base=10000.0, eps=1e-6, ctx=256, tied=False, bias=True, qk_norm=False)
QWEN3 = dict(arch="qwen3", name="qwen3-tiny", seed=20250103, n_layer=3, n_embd=64, n_head=4, n_head_kv=2,
             head_dim=32, n_ff=96, rope_base=1000000.0, eps=1e-6, ctx=256, tied=True, bias=False, qk_norm=True)


def make_weights(cfg, n_vocab):
    """Seeded normal weights, numpy shape (n_out, n_in) = reversed ggml ne; float32."""
    rng = np.random.default_rng(cfg["seed"])
    E, H, HK, D, F = cfg["n_embd"], cfg["n_head"], cfg["n_head_kv"], cfg["head_dim"], cfg["n_ff"]
    g = lambda *shape, std: (rng.standard_normal(shape) * std).astype(np.float32)
    norm = lambda n: (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)
    w = {"token_embd.weight": g(n_vocab, E, std=0.5)}
    for il in range(cfg["n_layer"]):
        p = f"blk.{il}."
        w[p + "attn_norm.weight"] = norm(E)
        w[p + "attn_q.weight"] = g(H * D, E, std=0.08)
        w[p + "attn_k.weight"] = g(HK * D, E, std=0.08)
        w[p + "attn_v.weight"] = g(HK * D, E, std=0.08)
        if cfg["bias"]:
            w[p + "attn_q.bias"] = g(H * D, std=0.1)
            w[p + "attn_k.bias"] = g(HK * D, std=0.3)
            w[p + "attn_v.bias"] = g(HK * D, std=0.1)
        if cfg["qk_norm"]:
            w[p + "attn_q_norm.weight"] = norm(D)
            w[p + "attn_k_norm.weight"] = norm(D)
        w[p + "attn_output.weight"] = g(E, H * D, std=0.08)
        w[p + "ffn_norm.weight"] = norm(E)
        w[p + "ffn_gate.weight"] = g(F, E, std=0.1)
        w[p + "ffn_up.weight"] = g(F, E, std=0.1)
        w[p + "ffn_down.weight"] = g(E, F, std=0.08)
    w["output_norm.weight"] = norm(E)
    if not cfg["tied"]:
        w["output.weight"] = g(n_vocab, E, std=0.1)
    return w


def write_gguf(path, cfg, weights, tok, q8=False):
    tokens, types, merges = tok
    a = cfg["arch"]
    wr = gguf.GGUFWriter(path, arch=a)
    wr.add_name(cfg["name"] + ("-q8_0" if q8 else ""))
    wr.add_file_type(int(gguf.LlamaFileType.MOSTLY_Q8_0 if q8 else gguf.LlamaFileType.ALL_F32))
    wr.add_quantization_version(gguf.GGML_QUANT_VERSION)
    wr.add_context_length(cfg["ctx"])
    wr.add_embedding_length(cfg["n_embd"])
    wr.add_block_count(cfg["n_layer"])
    wr.add_feed_forward_length(cfg["n_ff"])
    wr.add_head_count(cfg["n_head"])
    wr.add_head_count_kv(cfg["n_head_kv"])
    wr.add_rope_freq_base(cfg["rope_base"])
    wr.add_layer_norm_rms_eps(cfg["eps"])
    if a == "qwen3":
        wr.add_key_length(cfg["head_dim"])
        wr.add_value_length(cfg["head_dim"])
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("qwen2")
    wr.add_token_list(tokens)
    wr.add_token_types(types)
    wr.add_token_merges(merges)
    wr.add_bos_token_id(tokens.index("<|endoftext|>"))
    wr.add_eos_token_id(tokens.index("<|im_end|>"))
    wr.add_pad_token_id(tokens.index("<|endoftext|>"))
    wr.add_add_bos_token(False)
    for name, arr in weights.items():
        if q8 and arr.ndim == 2:
            wr.add_tensor(name, quantize(arr, gguf.GGMLQuantizationType.Q8_0),
                          raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            wr.add_tensor(name, arr)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def load_f64(path):
    r = gguf.GGUFReader(path)
    w = {}
    for t in r.tensors:
        arr = dequantize(t.data, t.tensor_type).astype(np.float64)
        ne = [int(v) for v in t.shape]
        w[t.name] = arr.reshape(list(reversed(ne))) if len(ne) > 1 else arr.reshape(ne[0])
    return w


def forward_f64(cfg, w, ids):
    """All-position logits of llama.cpp's qwen2/qwen3 graphs, in float64."""
    T = len(ids)
    H, HK, D, eps = cfg["n_head"], cfg["n_head_kv"], cfg["head_dim"], cfg["eps"]
    rms = lambda x, g: x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g
    half = D // 2
    inv = cfg["rope_base"] ** (-np.arange(half) * 2.0 / D)
    ang = np.arange(T)[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    rope = lambda x: np.concatenate([x[..., :half] * c - x[..., half:] * s, x[..., :half] * s + x[..., half:] * c], -1)
    x = w["token_embd.weight"][np.array(ids)]
    causal = np.triu(np.ones((T, T), dtype=bool), 1)
    for il in range(cfg["n_layer"]):
        p = f"blk.{il}."
        h = rms(x, w[p + "attn_norm.weight"])
        q, k, v = (h @ w[p + f"attn_{n}.weight"].T + (w[p + f"attn_{n}.bias"] if cfg["bias"] else 0.0) for n in "qkv")
        q, k, v = q.reshape(T, H, D), k.reshape(T, HK, D), v.reshape(T, HK, D)
        if cfg["qk_norm"]:
            q, k = rms(q, w[p + "attn_q_norm.weight"]), rms(k, w[p + "attn_k_norm.weight"])
        q, k = rope(q), rope(k)
        out = np.empty((T, H, D))
        for hh in range(H):
            kv = hh // (H // HK)
            sc = (q[:, hh] @ k[:, kv].T) / np.sqrt(D)
            sc = np.where(causal, -np.inf, sc)
            e = np.exp(sc - sc.max(1, keepdims=True))
            out[:, hh] = (e / e.sum(1, keepdims=True)) @ v[:, kv]
        x = x + out.reshape(T, H * D) @ w[p + "attn_output.weight"].T
        h = rms(x, w[p + "ffn_norm.weight"])
        gt = h @ w[p + "ffn_gate.weight"].T
        x = x + ((gt / (1.0 + np.exp(-gt))) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
    out_w = w.get("output.weight", w["token_embd.weight"])
    return rms(x, w["output_norm.weight"]) @ out_w.T


# ----------------------------------------------------------------------------------------------- llama.cpp
TOKENIZE_TEXTS = [
    ("Hello world", False),
    ("The quick brown fox jumps over the lazy dog.", False),
    ("I'm sure you'll see they've done it, didn't they? We'd LOVE IT'S", False),
    ("don't DON'T  'quoted' text's", False),
    ("12345 and 3.14159 and 1,000,000", False),
    ("naïve café — 東京 🙂 Ünïcödé", False),
    ("line one\nline two\r\n\nline four\n", False),
    ("multiple    spaces   here  and\ttabs\t\tend   ", False),
    ("   leading spaces", False),
    ("punctuation!!! ...?? (brackets) [x] {y} <z> @#$%^&*", False),
    ("def f(x):\n    return x**2  # square\n", False),
    ("HTTP/1.1 200 OK\r\nContent-Length: 42", False),
    ("<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n", True),
    ("<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n", False),
    ("<|endoftext|>", True),
    ("<|endoftext|>", False),
    ("", False),
]
SEQ_TEXTS = [
    ("Hello world, this is the tool router.", False),
    ("<|im_start|>user\nWhere is order 12345?<|im_end|>\n<|im_start|>assistant\n", True),
]


def llama(path):
    import llama_cpp
    return llama_cpp.Llama(path, n_ctx=256, n_batch=64, n_ubatch=64, n_threads=2, n_threads_batch=2,
                           logits_all=True, flash_attn=False, type_k=0, type_v=0, seed=0, verbose=False)


def all_logits(llm, ids):
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float64)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    tok = learn_bpe()
    tokens = tok[0]
    n_vocab = len(tokens)
    variants = [("qwen2-tiny.gguf", QWEN2, False), ("qwen2-tiny-q8_0.gguf", QWEN2, True), ("qwen3-tiny.gguf", QWEN3, False)]
    os.makedirs(FIX, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        for fname, cfg, q8 in variants:
            w = make_weights(cfg, n_vocab)
            write_gguf(os.path.join(FIX, fname), cfg, w, tok, q8)
            write_gguf(os.path.join(td, fname), cfg, make_weights(cfg, n_vocab), tok, q8)
            assert sha(os.path.join(FIX, fname)) == sha(os.path.join(td, fname)), f"{fname} not deterministic"
    rng = np.random.default_rng(7)
    rand_seqs = [[int(v) for v in rng.integers(0, n_vocab, size=n)] for n in (5, 40)]
    ref = {"generator": "scripts/reference/make_qwen_fixtures.py",
           "llama_cpp": {"llama_cpp_python": "0.3.36", "n_threads": 2, "logits_all": True, "flash_attn": False,
                         "kv_cache_type": "f32", "n_ctx": 256, "n_batch": 64},
           "tokenizer": {"model": "gpt2", "pre": "qwen2", "n_vocab": n_vocab, "n_merges": len(tok[2]),
                         "specials": {s: tokens.index(s) for s in SPECIALS},
                         "bos_token_id": tokens.index("<|endoftext|>"), "eos_token_id": tokens.index("<|im_end|>"),
                         "add_bos_token": False},
           "models": {}}
    tokenizations = None
    summary = []
    for fname, cfg, q8 in variants:
        path = os.path.join(FIX, fname)
        llm = llama(path)
        assert llm.n_vocab() == n_vocab
        if tokenizations is None:
            tokenizations = [{"text": t, "parse_special": sp,
                              "ids": llm.tokenize(t.encode("utf-8"), add_bos=False, special=sp)} for t, sp in TOKENIZE_TEXTS]
        seqs = [{"text": t, "parse_special": sp, "ids": llm.tokenize(t.encode("utf-8"), add_bos=False, special=sp)}
                for t, sp in SEQ_TEXTS]
        seqs += [{"text": None, "parse_special": None, "ids": ids} for ids in rand_seqs]
        wf = load_f64(path)
        worst = 0.0
        for sq in seqs:
            ll = all_logits(llm, sq["ids"])
            rf = forward_f64(cfg, wf, sq["ids"])
            d = float(np.abs(ll - rf).max())
            worst = max(worst, d)
            sq["f64_max_abs_diff"] = round(d, 7)
            sq["argmax"] = [int(i) for i in ll.argmax(1)]
            sq["logits"] = [[round(float(v), 6) for v in row] for row in ll]
        del llm
        meta = {k: cfg[k] for k in ("arch", "n_layer", "n_embd", "n_head", "n_head_kv", "head_dim", "n_ff",
                                   "rope_base", "eps", "ctx", "seed")}
        meta.update({"file": fname, "sha256": sha(path), "bytes": os.path.getsize(path), "n_vocab": n_vocab,
                     "weights": "Q8_0 (2-D) + F32 (1-D)" if q8 else "F32",
                     "q_width": cfg["n_head"] * cfg["head_dim"], "kv_width": cfg["n_head_kv"] * cfg["head_dim"],
                     "qkv_bias": cfg["bias"], "qk_norm": cfg["qk_norm"], "tied_output": cfg["tied"],
                     "rope": "neox, all head dims", "ffn": "silu(gate)*up", "kq_scale": "1/sqrt(head_dim)",
                     "f64_vs_llama_max_abs_diff": round(worst, 7), "sequences": seqs})
        ref["models"][fname.replace(".gguf", "")] = meta
        summary.append(f"{fname}: {meta['bytes']} bytes sha256 {meta['sha256'][:16]} {cfg['arch']} L={cfg['n_layer']} "
                       f"E={cfg['n_embd']} H={cfg['n_head']}/{cfg['n_head_kv']}x{cfg['head_dim']} F={cfg['n_ff']} "
                       f"rope={cfg['rope_base']:g} tied={cfg['tied']} seqs={[len(s['ids']) for s in seqs]} "
                       f"max|llama-f64|={worst:.2e}")
    ref["tokenizations"] = tokenizations
    out = os.path.join(FIX, "qwen-tiny-reference.json")
    with open(out, "w") as f:
        json.dump(ref, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"vocab {n_vocab} tokens ({len(tok[2])} merges), specials {ref['tokenizer']['specials']}")
    for line in summary:
        print(line)
    for t in tokenizations:
        print(f"  {json.dumps(t['text'], ensure_ascii=False)[:48]:50} special={t['parse_special']!s:5} {t['ids']}")
    print(f"wrote {out} ({os.path.getsize(out)} bytes); GGUF bytes identical on two writes")


if __name__ == "__main__":
    sys.exit(main())
