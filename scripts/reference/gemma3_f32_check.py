#!/usr/bin/env python3
# Semantic check of gemma3_f64.py against llama.cpp with the quantisation noise taken out.
#
# Ran as (from the repository root):
#   .peers/bin/python scripts/reference/gemma3_f32_check.py [--keep]
# Needs: numpy, gguf, llama_cpp (llama-cpp-python 0.3.36) in .peers
#   (python3 -m venv .peers && .peers/bin/pip install llama-cpp-python gguf numpy),
#   models/gemma-3-270m-q4_k_m.gguf, /work/shared/reference/gemma3/greedy-gemma3.jsonl, ~1.1 GB free in /tmp, ~4 GB RAM.
# What it does: writes /tmp/gemma3-270m-dequant-f32.gguf, a copy of the model whose every tensor is the gguf-py
#   dequantisation stored as F32 (same metadata, general.file_type = 0). With F32 weights llama.cpp's CPU matmuls take
#   F32 inputs (no Q8_0/Q8_K rounding of activations), and the KV cache is asked for in F32 (type_k = type_v = 0).
#   It then compares llama.cpp's last-position logits (logits_all=True: llama-cpp-python 0.3.36 fills `scores` only
#   then; 2 threads) with gemma3_f64.py's for the 10 prompts.
#   Deleted afterwards unless --keep. No randomness.
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys

import numpy as np
import gguf
from gguf.quants import dequantize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gemma3_f64 import Gemma3F64, MODEL, PROMPTS  # noqa: E402

OUT = "/tmp/gemma3-270m-dequant-f32.gguf"


def write_f32_copy(src, dst):
    r = gguf.GGUFReader(src)
    w = gguf.GGUFWriter(dst, arch=r.fields["general.architecture"].contents())
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        val = f.contents()
        if key == "general.file_type":
            val = 0
        vtype = f.types[0]
        sub = f.types[1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, val, vtype, sub)
    for t in r.tensors:
        arr = dequantize(t.data, t.tensor_type).astype(np.float32)
        ne = [int(v) for v in t.shape]
        w.add_tensor(t.name, arr.reshape(list(reversed(ne))))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(OUT):
        write_f32_copy(MODEL, OUT)
    import llama_cpp
    llm = llama_cpp.Llama(OUT, n_ctx=256, n_batch=256, n_threads=2, n_threads_batch=2, logits_all=True,
                          type_k=0, type_v=0, verbose=False)
    ref = Gemma3F64(MODEL)
    prompts = [json.loads(l) for l in open(PROMPTS) if l.strip()]
    worst = 0.0
    for p in prompts:
        llm.reset()
        llm.eval(p["prompt_ids"])
        ll = np.array(llm.scores[len(p["prompt_ids"]) - 1], dtype=np.float64)
        rf = ref.forward(p["prompt_ids"], ref.new_cache())
        d = np.abs(ll - rf)
        top = np.argsort(-rf)[:10]
        worst = max(worst, float(d.max()))
        print(f"{p['prompt'][:40]!r:44} all-vocab |dlogit| max={d.max():.5f} mean={d.mean():.5f} "
              f"top10 max={d[top].max():.5f} top1 f64={int(np.argmax(rf))} llama={int(np.argmax(ll))}")
    print(f"worst |dlogit| over all prompts and the whole vocabulary: {worst:.5f}")
    del llm
    if not args.keep:
        os.remove(OUT)


if __name__ == "__main__":
    main()
