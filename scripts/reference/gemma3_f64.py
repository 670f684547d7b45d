#!/usr/bin/env python3
# Float64 reference forward pass of Gemma 3 270M (GGUF arch `gemma3`), with llama.cpp's semantics.
#
# Ran as (from the repository root):
#   .peers/bin/python scripts/reference/gemma3_f64.py            # writes the fixture, compares with llama.cpp
#   .peers/bin/python scripts/reference/gemma3_f64.py --dump     # debug dump for the first prompt only
#   .peers/bin/python scripts/reference/gemma3_f64.py --emulate-llama  # diagnostic: mimic llama.cpp rounding, compare
# Needs: numpy, gguf (gguf-py) in .peers (python3 -m venv .peers && .peers/bin/pip install llama-cpp-python gguf numpy),
#   models/gemma-3-270m-q4_k_m.gguf (SHA-256 a5fd3b62...6818, see /work/shared/reference/gemma3/README.md),
#   /work/shared/reference/gemma3/greedy-gemma3.jsonl (prompts; llama.cpp's greedy output to compare against).
# Writes: Tests/InferenceTests/Fixtures/greedy-gemma3-f64.jsonl
# About 2 GB of RAM (float64 copies of all weights); single-threaded BLAS; no randomness (greedy decoding).
#
# Semantics (checked in llama.cpp: src/models/gemma3.cpp, llama-model.cpp hparams, llama-hparams.cpp,
# the KV cache's is_masked_swa, convert_hf_to_gguf.py Gemma3Model):
#   x = token_embd[id] * sqrt(n_embd)                     (only for token input)
#   per block il: swa = il % 6 < 5  (set_swa_pattern(6)); rope base 10000 on swa blocks, gemma3.rope.freq_base else
#     h = rms(x)*attn_norm; q,k,v = Wq h, Wk h, Wv h; q,k per head: rms(.)*attn_{q,k}_norm; NEOX RoPE on all 256 dims
#     q *= 1/sqrt(head_dim) (f_attention_scale, not the 27B rule); scores unscaled; causal; swa masks q_pos-k_pos >= 512
#     a = Wo attn; x = x + rms(a)*post_attention_norm
#     h = rms(x)*ffn_norm; f = Wdown(gelu_tanh(Wgate h) * Wup h); x = x + rms(f)*post_ffw_norm
#   logits = token_embd . (rms(x)*output_norm); no final soft-capping (the iswa build skips it)
#   GGUF norm weights already contain Gemma's "+1" (the converter's norm_shift), so they multiply directly.
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import math
import sys
import time

import numpy as np
import gguf
from gguf.quants import dequantize

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
PROMPTS = "/work/shared/reference/gemma3/greedy-gemma3.jsonl"
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "greedy-gemma3-f64.jsonl")
N_GREEDY = 24


def field(reader, key):
    f = reader.fields[key]
    return f.contents()


class Gemma3F64:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        assert field(r, "general.architecture") == "gemma3"
        a = "gemma3."
        self.n_embd = int(field(r, a + "embedding_length"))
        self.n_layer = int(field(r, a + "block_count"))
        self.n_head = int(field(r, a + "attention.head_count"))
        self.n_head_kv = int(field(r, a + "attention.head_count_kv"))
        self.head_dim = int(field(r, a + "attention.key_length"))
        assert int(field(r, a + "attention.value_length")) == self.head_dim
        # rms eps is stored as float32 1e-6; use the float32 value widened exactly, as llama.cpp does
        self.eps = float(np.float32(field(r, a + "attention.layer_norm_rms_epsilon")))
        self.rope_base_global = float(field(r, a + "rope.freq_base"))
        self.rope_base_swa = 10000.0  # hard-coded in llama.cpp's gemma3 hparams (rope_freq_base_train_swa)
        self.n_swa = int(field(r, a + "attention.sliding_window"))
        self.n_rot = int(field(r, a + "rope.dimension_count")) if (a + "rope.dimension_count") in r.fields else self.head_dim
        assert self.n_rot == self.head_dim
        for k in (a + "final_logit_softcapping", a + "attn_logit_softcapping", a + "rope.scaling.type"):
            assert k not in r.fields, k
        self.bos = int(field(r, "tokenizer.ggml.bos_token_id"))
        self.eos = int(field(r, "tokenizer.ggml.eos_token_id"))
        toks = field(r, "tokenizer.ggml.tokens")
        self.eot = toks.index("<end_of_turn>") if "<end_of_turn>" in toks else None
        self.w = {}
        self.wtype = {}
        self.emulate = False
        for t in r.tensors:
            self.wtype[t.name] = t.tensor_type
            arr = dequantize(t.data, t.tensor_type).astype(np.float64)
            ne = [int(v) for v in t.shape]  # ggml order: ne0 (row length) first
            self.w[t.name] = arr.reshape(list(reversed(ne))) if len(ne) > 1 else arr.reshape(ne[0])
        self.n_vocab = self.w["token_embd.weight"].shape[0]
        assert "output.weight" not in self.w  # tied output
        self.is_swa = [il % 6 < 5 for il in range(self.n_layer)]

    # --- optional emulation of llama.cpp's CPU rounding (diagnostics only, never used for the fixture) ---
    @staticmethod
    def _q8_blocks(x, bs, f16_scale):
        # round activations the way ggml's vec_dot_type does: per block of bs, scale amax/127, round to int8
        sh = x.shape
        b = x.reshape(-1, bs)
        amax = np.abs(b).max(axis=1, keepdims=True)
        d = amax / 127.0
        if f16_scale:
            d = d.astype(np.float16).astype(np.float64)
        else:
            d = d.astype(np.float32).astype(np.float64)
        inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
        q = np.clip(np.round(b * inv), -127, 127)
        return (q * d).reshape(sh)

    def mm(self, h, name):
        w = self.w[name]
        if self.emulate:
            t = self.wtype[name]
            Q = gguf.GGMLQuantizationType
            if t in (Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0):
                h = self._q8_blocks(h, 32, True)
            elif t in (Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K):
                h = self._q8_blocks(h, 256, False)
        return h @ w.T

    def f16(self, x):
        return x.astype(np.float16).astype(np.float64) if self.emulate else x

    def rms(self, x, w):
        # x: (..., n); rows normalised independently
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, pos, base):
        # x: (T, H, D) NEOX layout: pairs (i, i + D/2); theta_i = pos * base^(-2i/D)
        d = self.n_rot
        half = d // 2
        inv = base ** (-np.arange(half, dtype=np.float64) * 2.0 / d)
        ang = np.asarray(pos, dtype=np.float64)[:, None] * inv[None, :]  # (T, half)
        c = np.cos(ang)[:, None, :]
        s = np.sin(ang)[:, None, :]
        x0 = x[..., :half]
        x1 = x[..., half:]
        return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)

    @staticmethod
    def gelu_tanh(x):
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def new_cache(self):
        return {"pos": [], "k": [np.zeros((0, self.n_head_kv, self.head_dim)) for _ in range(self.n_layer)],
                "v": [np.zeros((0, self.n_head_kv, self.head_dim)) for _ in range(self.n_layer)]}

    def forward(self, ids, cache, trace=None):
        """Runs tokens `ids` after what is in `cache`; returns the logits of the last token (float64)."""
        T = len(ids)
        p0 = len(cache["pos"])
        pos = list(range(p0, p0 + T))
        cache["pos"].extend(pos)
        all_pos = np.array(cache["pos"])
        D, H, HK = self.head_dim, self.n_head, self.n_head_kv
        x = self.w["token_embd.weight"][np.array(ids)] * math.sqrt(self.n_embd)
        if trace is not None:
            trace["embd_scaled"] = x[-1].copy()
        for il in range(self.n_layer):
            p = f"blk.{il}."
            W = lambda n: self.w[p + n]
            h = self.rms(x, W("attn_norm.weight"))
            q = self.mm(h, p + "attn_q.weight").reshape(T, H, D)
            k = self.mm(h, p + "attn_k.weight").reshape(T, HK, D)
            v = self.f16(self.mm(h, p + "attn_v.weight").reshape(T, HK, D))
            q = self.rms(q, W("attn_q_norm.weight"))
            k = self.rms(k, W("attn_k_norm.weight"))
            base = self.rope_base_swa if self.is_swa[il] else self.rope_base_global
            q = self.rope(q, pos, base)
            k = self.rope(k, pos, base)
            q = self.f16(q * (1.0 / math.sqrt(D)))
            k = self.f16(k)
            cache["k"][il] = np.concatenate([cache["k"][il], k], axis=0)
            cache["v"][il] = np.concatenate([cache["v"][il], v], axis=0)
            K = cache["k"][il]  # (S, HK, D)
            V = cache["v"][il]
            qp = np.array(pos)[:, None]
            kp = all_pos[None, :]
            masked = kp > qp
            if self.is_swa[il]:
                masked |= (qp - kp) >= self.n_swa
            out = np.empty((T, H, D))
            group = H // HK
            for hh in range(H):
                kv = hh // group
                s = q[:, hh, :] @ K[:, kv, :].T  # (T, S)
                s = np.where(masked, -np.inf, s)
                s = s - s.max(axis=1, keepdims=True)
                e = np.exp(s)
                e /= e.sum(axis=1, keepdims=True)
                out[:, hh, :] = self.f16(e) @ V[:, kv, :]
            a = self.mm(out.reshape(T, H * D), p + "attn_output.weight")
            x = x + self.rms(a, W("post_attention_norm.weight"))
            h = self.rms(x, W("ffn_norm.weight"))
            g = self.gelu_tanh(self.mm(h, p + "ffn_gate.weight")) * self.mm(h, p + "ffn_up.weight")
            f = self.mm(g, p + "ffn_down.weight")
            x = x + self.rms(f, W("post_ffw_norm.weight"))
            if trace is not None and il == 0:
                trace["block0"] = x[-1].copy()
        xn = self.rms(x[-1], self.w["output_norm.weight"])
        return self.mm(xn[None, :], "token_embd.weight")[0]


def top10(logits):
    idx = np.argsort(-logits, kind="stable")[:10]
    return idx, logits[idx]


def run_prompt(m, ids):
    cache = m.new_cache()
    logits = m.forward(ids, cache)
    first = logits.copy()
    out = []
    for _ in range(N_GREEDY):
        nxt = int(np.argmax(logits))
        out.append(nxt)
        if nxt == m.eos or nxt == m.eot:
            break
        logits = m.forward([nxt], cache)
    return out, first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", action="store_true", help="print debug values for the first prompt and exit")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--emulate-llama", action="store_true",
                    help="diagnostic: round matmul inputs to Q8_0/Q8_K and K/V/Q/probs to f16 like llama.cpp's CPU path; "
                         "only compares (first-step logits), writes nothing")
    args = ap.parse_args()
    t0 = time.time()
    m = Gemma3F64(MODEL)
    print(f"loaded in {time.time() - t0:.1f}s: n_embd={m.n_embd} n_layer={m.n_layer} heads={m.n_head}/{m.n_head_kv} "
          f"head_dim={m.head_dim} eps={m.eps!r} rope={m.rope_base_swa}/{m.rope_base_global} swa={m.n_swa} "
          f"global layers={[i for i, s in enumerate(m.is_swa) if not s]} vocab={m.n_vocab} eot={m.eot}", file=sys.stderr)
    prompts = [json.loads(l) for l in open(PROMPTS) if l.strip()]
    if args.emulate_llama:
        m.emulate = True
        for p in prompts:
            logits = m.forward(p["prompt_ids"], m.new_cache())
            ref = {d["id"]: d["logit"] for d in p["first_step_top10"]}
            diffs = [abs(logits[i] - l) for i, l in ref.items()]
            idx, vals = top10(logits)
            print(f"{p['prompt'][:40]!r:44} emulated top1={idx[0]} llama top1={p['first_step_top10'][0]['id']} "
                  f"top10 |dlogit| max={max(diffs):.4f} mean={np.mean(diffs):.4f}")
        return
    if args.dump:
        p = prompts[0]
        tr = {}
        logits = m.forward(p["prompt_ids"], m.new_cache(), trace=tr)
        print(f"prompt {p['prompt']!r} ids {p['prompt_ids']}")
        print("embedding*sqrt(640), last position, [0:8]:", " ".join(f"{v:.9f}" for v in tr["embd_scaled"][:8]))
        print("after block 0, last position, [0:8]:      ", " ".join(f"{v:.9f}" for v in tr["block0"][:8]))
        print("first-step logits ids 0..15:")
        for i in range(16):
            print(f"  {i:2d} {logits[i]:.6f}")
        idx, vals = top10(logits)
        print("top10:", ", ".join(f"{i}:{v:.6f}" for i, v in zip(idx, vals)))
        return
    rows = []
    stats = []
    for p in prompts:
        t1 = time.time()
        greedy, first = run_prompt(m, p["prompt_ids"])
        idx, vals = top10(first)
        row = {"prompt": p["prompt"], "prompt_ids": p["prompt_ids"], "greedy_ids": greedy,
               "first_step_top10": [{"id": int(i), "logit": round(float(v), 6)} for i, v in zip(idx, vals)],
               "first_step_top2_gap": round(float(vals[0] - vals[1]), 6)}
        rows.append(row)
        ref = {d["id"]: d["logit"] for d in p["first_step_top10"]}
        diffs = [abs(first[i] - l) for i, l in ref.items()]
        same8 = greedy[:8] == p["greedy_ids"][:8]
        common = 0
        for a, b in zip(greedy, p["greedy_ids"]):
            if a != b:
                break
            common += 1
        stats.append((same8, common, max(diffs), float(np.mean(diffs))))
        print(f"{time.time() - t1:5.1f}s {p['prompt'][:40]!r:44} first8 equal={same8} common prefix={common}/24 "
              f"top10 |dlogit| max={max(diffs):.4f} mean={np.mean(diffs):.4f} gap f64={row['first_step_top2_gap']:.4f} "
              f"llama={p['first_step_top2_gap']:.4f}", file=sys.stderr)
    with open(args.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {args.out}")
    print(f"first 8 greedy ids equal on {sum(s[0] for s in stats)}/{len(stats)} prompts; "
          f"full 24 equal on {sum(s[1] == 24 for s in stats)}/{len(stats)}; "
          f"top-10 logit |diff| vs llama.cpp: max {max(s[2] for s in stats):.4f}, "
          f"mean {np.mean([s[3] for s in stats]):.4f}")


if __name__ == "__main__":
    main()
