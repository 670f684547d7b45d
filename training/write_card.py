#!/usr/bin/env python3
"""Write adapters/<catalogue>/README.md from the adapter's train_info.json and two `toolrouter eval --json` runs.

    B=.build/release/toolrouter; C=examples/catalogues/support.tools.json; G=training/gold/support.dev.jsonl
    $B eval --catalogue $C --gold $G --no-adapter --json > training/runs/support.eval.base.json
    $B eval --catalogue $C --gold $G --adapter adapters/support --json > training/runs/support.eval.adapter.json
    training/.venv/bin/python training/write_card.py --catalogue support \
        --base training/runs/support.eval.base.json --adapter training/runs/support.eval.adapter.json
"""
import argparse
import json
import os

import common


def stages(info):
    """The training stages, oldest first (an adapter trained with --init continues an earlier one)."""
    chain = []
    while info:
        chain.append(info)
        info = info.get("init")
    return list(reversed(chain))


def stage_line(n, s):
    weight = s.get("decision_weight", 1.0)
    loss = "plain mean over completion tokens" if weight == 1 else \
        f"tool name, keys, numbers and JSON structure weighted {weight:g}x"
    return (f"| stage {n} | {s['epochs']} epochs over `{s['rows_file']}` ({s['rows']} rows), batch {s['batch']}, {s['steps']} steps, "
            f"lr {s['lr']} {s['schedule']} ({s['warmup_steps']} warm-up steps), loss: {loss}; "
            f"{s['train_seconds'] / 60:.1f} min on {s['threads']} torch thread(s); "
            f"last-epoch mean loss {s['final_loss_last_epoch_mean']} |")


def eval_row(name, m):
    return (f"| {name} | {m['valid_rate']:.1%} | {m['tool_accuracy']:.1%} | {m['argument_accuracy']:.1%} "
            f"(of {m['argument_rows']}) | {m['false_tool_call_rate']:.1%} ({m['false_tool_calls']} of {m['no_tool_rows']}) | "
            f"{m['exact_accuracy']:.1%} | {m['latency_p50_ms']:.0f} ms |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalogue", required=True)
    ap.add_argument("--base", required=True, help="`toolrouter eval --no-adapter --json` output")
    ap.add_argument("--adapter", required=True, help="`toolrouter eval --adapter adapters/<catalogue> --json` output")
    ap.add_argument("--test-base", help="the same as --base on training/gold/<catalogue>.test.jsonl")
    ap.add_argument("--test-adapter", help="the same as --adapter on training/gold/<catalogue>.test.jsonl")
    args = ap.parse_args()
    adir = os.path.join(common.ROOT, "adapters", args.catalogue)
    info = json.load(open(os.path.join(adir, "train_info.json")))
    base, tuned = json.load(open(args.base)), json.load(open(args.adapter))
    size = os.path.getsize(os.path.join(adir, "adapter_model.safetensors"))
    gold = f"training/gold/{args.catalogue}.dev.jsonl"
    chain = stages(info)
    minutes = sum(s["train_seconds"] for s in chain) / 60
    lines = [
        f"# LoRA adapter: `{args.catalogue}` catalogue",
        "",
        f"PEFT LoRA for SmolLM2-135M-Instruct (`{common.MODEL_FILE}`, the daemon's default model), trained to route "
        f"requests for `examples/catalogues/{args.catalogue}.tools.json` with the daemon's own prompt "
        "(`toolrouter render-prompt`). Files: `adapter_config.json`, `adapter_model.safetensors` "
        f"({size / 1e6:.2f} MB, float32), `train_info.json` (every setting and figure below; `init` holds the "
        "stage it continued).",
        "",
        "```sh",
        f"toolrouter serve --catalogue {args.catalogue}=examples/catalogues/{args.catalogue}.tools.json "
        f"--adapter {args.catalogue}=adapters/{args.catalogue} ...",
        "```",
        "",
        "Weights are in the Hugging Face layout of the base (transformers undoes the GGUF q/k RoPE row permutation "
        "when it loads the GGUF); ToolRouter permutes the `q_proj`/`k_proj` `lora_B` rows per head when it loads "
        "them, and `Tests/InferenceTests/TrainedAdapterTests.swift` checks its logits against torch.",
        "",
        "## Training",
        "",
        "| | |",
        "|---|---|",
        f"| data | synthetic rows from `training/make_data.py`, one file per stage (seeds and generator versions in "
        f"`training/README.md`); the last stage's file: {info['tokens_per_epoch']:,} tokens an epoch, "
        f"{info['trained_tokens_per_epoch']:,} of them trained (completion + end) |",
        f"| LoRA | r={info['r']}, alpha={info['lora_alpha']}, dropout {info['lora_dropout']}, targets "
        f"{', '.join(info['target_modules'])}, no rsLoRA, no bias |",
        f"| optimiser | {info['optimizer']} |",
    ]
    lines += [stage_line(n + 1, s) for n, s in enumerate(chain)]
    lines += [
        f"| precision | base dequantised from the GGUF to float32; bfloat16 autocast for the matmuls: {info['bf16_autocast']} |",
        f"| wall time | {minutes:.1f} min of training in all, niced, on a shared 2-core AMD EPYC (Zen 4) machine (a stage's time "
        "varies up to 3x with what else the machine runs) |",
        f"| tokenizer | HF tokenizer from the GGUF gave render-prompt's ids on all rows ({info['tokenizer_mismatches']} mismatches) |",
        "",
        "## Routing quality",
        "",
        f"`toolrouter eval` on `{gold}` ({base['rows']} hand-written rows, phrased unlike the training templates and "
        "never trained on), with the daemon's constrained greedy decoder. Tool-name accuracy is over all rows; "
        "argument match over the rows where the gold tool was chosen (exact JSON equality); false tool calls over the "
        "no_tool rows; exact = right tool and right arguments over all rows.",
        "",
        "| model | valid calls | tool-name accuracy | argument match | false tool calls | exact | p50 |",
        "|---|---|---|---|---|---|---|",
        eval_row("base model", base),
        eval_row("base + this adapter", tuned),
        "",
        "Shipping bar: valid 100%, tool-name accuracy ≥ 90%, argument match ≥ 85%, false tool calls ≤ 5%.",
        "",
    ]
    if args.test_base and args.test_adapter:
        tb, ta = json.load(open(args.test_base)), json.load(open(args.test_adapter))
        lines += [
            "The dev set guided the training (data changes, the loss weighting, when to stop), so its figures are "
            f"optimistic. `training/gold/{args.catalogue}.test.jsonl` ({ta['rows']} rows) was written after those "
            "choices and evaluated once, with this adapter:",
            "",
            "| model (held-out test set) | valid calls | tool-name accuracy | argument match | false tool calls | exact | p50 |",
            "|---|---|---|---|---|---|---|",
            eval_row("base model", tb),
            eval_row("base + this adapter", ta),
            "",
        ]
    lines += [
        "Reproduce (from the repository root):",
        "",
        "```sh",
        f"toolrouter eval --catalogue examples/catalogues/{args.catalogue}.tools.json --gold {gold} --no-adapter",
        f"toolrouter eval --catalogue examples/catalogues/{args.catalogue}.tools.json --gold {gold} "
        f"--adapter adapters/{args.catalogue} --verbose",
        "```",
        "",
    ]
    with open(os.path.join(adir, "README.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {os.path.join(adir, 'README.md')}")


if __name__ == "__main__":
    main()
