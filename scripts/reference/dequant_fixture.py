#!/usr/bin/env python3
"""Writes Tests/GGUFTests/Fixtures/dequant_reference.json: float32 values produced by the `gguf`
Python package's dequantisers (gguf.quants.dequantize), which the Swift reference dequantisers in
Sources/GGUF/Dequantize.swift are tested against.

Two kinds of entries:
  * "real": whole rows of Gemma 3 270M tensors, one or two of each type in the file (Q8_0, Q5_0,
    Q4_K, Q6_K, F32). The test reads the same bytes from the model file, so the fixture stores only
    the tensor name, the row, its first 16 values and a position-weighted checksum of the whole row,
    Σ v_i·w_i with w_i = (7919·i mod 17) − 8 (in float64), which catches misplaced weights too.
  * "synthetic": seeded random blocks (with sane f16 scales) of types the Gemma file lacks (Q5_1,
    Q5_K) and of the others too, stored as hex with their expected values.

Run from the package root with the project's Python (has gguf and numpy):
    .peers/bin/python scripts/reference/dequant_fixture.py [models/gemma-3-270m-q4_k_m.gguf]
"""

import json
import sys
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

ROOT = Path(__file__).resolve().parents[2]
MODEL = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "models" / "gemma-3-270m-q4_k_m.gguf"
OUT = ROOT / "Tests" / "GGUFTests" / "Fixtures" / "dequant_reference.json"

# (tensor, rows): one or more tensors per type in the Gemma file.
REAL = [
    ("token_embd.weight", [0, 262143]),     # Q8_0, first/last rows of the tied embedding
    ("blk.0.attn_q.weight", [0, 517]),      # Q5_0
    ("blk.3.ffn_up.weight", [1999]),        # Q5_0, another layer
    ("blk.0.attn_output.weight", [0, 639]), # Q4_K
    ("blk.0.ffn_down.weight", [0, 333]),    # Q6_K
    ("blk.0.attn_norm.weight", [0]),        # F32
]
LEADING = 16

# Offsets of the f16 fields that must hold sane scales in random blocks (the rest is random bytes).
SYNTHETIC = [
    (T.Q5_0, 2, [0]),
    (T.Q5_1, 2, [0, 2]),
    (T.Q2_K, 1, [80, 82]),
    (T.Q3_K, 1, [108]),
    (T.Q4_K, 1, [0, 2]),
    (T.Q5_K, 1, [0, 2]),
    (T.Q6_K, 1, [208]),
]


def floats(values: np.ndarray) -> list:
    # float32 → the shortest decimal that reads back as the same float32.
    return [float(np.format_float_positional(v, unique=True, trim="-")) if np.isfinite(v) else str(v)
            for v in values.astype(np.float32)]


def checksum(values: np.ndarray) -> float:
    weights = (7919 * np.arange(values.size, dtype=np.int64)) % 17 - 8
    return float(np.dot(values.astype(np.float64), weights.astype(np.float64)))


def real_entries() -> list:
    if not MODEL.exists():
        sys.exit(f"model not found: {MODEL} (run scripts/setup --model gemma3-270m)")
    reader = GGUFReader(str(MODEL))
    tensors = {t.name: t for t in reader.tensors}
    entries = []
    for name, rows in REAL:
        t = tensors[name]
        block_size, type_size = GGML_QUANT_SIZES[t.tensor_type]
        raw = np.asarray(t.data)
        if raw.ndim == 1:
            raw = raw.reshape(1, -1)  # a norm vector is one row
        for row in rows:
            row_bytes = raw[row].view(np.uint8).reshape(-1)
            values = dequantize(row_bytes, t.tensor_type).reshape(-1).astype(np.float32)
            entries.append({"tensor": name, "type": t.tensor_type.name, "row": row, "count": int(values.size),
                            "leading": floats(values[:LEADING]), "checksum": checksum(values)})
    return entries


def synthetic_entries() -> list:
    rng = np.random.default_rng(20250605)
    entries = []
    for qtype, blocks, scale_offsets in SYNTHETIC:
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        data = rng.integers(0, 256, size=(blocks, type_size), dtype=np.uint8)
        for b in range(blocks):
            for offset in scale_offsets:
                # Scales of either sign up to 0.1; the last field of the last block is large (extreme values).
                magnitude = 40.0 if (b == blocks - 1 and offset == scale_offsets[-1]) else 0.1
                scale = np.float16(rng.uniform(-magnitude, magnitude))
                data[b, offset:offset + 2] = np.frombuffer(scale.tobytes(), dtype=np.uint8)
        values = dequantize(data.reshape(-1), qtype).reshape(-1)
        entries.append({"type": qtype.name, "blocks": blocks, "hex": data.tobytes().hex(), "values": floats(values)})
    return entries


def main() -> None:
    fixture = {
        "generator": "scripts/reference/dequant_fixture.py (gguf.quants.dequantize)",
        "model": MODEL.name,
        "real": real_entries(),
        "synthetic": synthetic_entries(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
