#!/usr/bin/env python3
"""Write adapters/<catalogue>/README.md from the adapter's train_info.json and the proxy-eval JSON.

    training/.venv/bin/python training/write_card.py --catalogue support --eval training/runs/support.eval.json
"""
import argparse
import json
import os

import common


def row(name, m):
    return (f"| {name} | {m['valid_json']:.1%} | {m['tool_accuracy']:.1%} | {m['arg_match']:.1%} ({m['arg_match_rows']}) "
            f"| {m['arg_match_relaxed']:.1%} | {m['false_tool_call']:.1%} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalogue", required=True)
    ap.add_argument("--eval", required=True)
    args = ap.parse_args()
    adir = os.path.join(common.ROOT, "adapters", args.catalogue)
    info = json.load(open(os.path.join(adir, "train_info.json")))
    ev = json.load(open(args.eval))
    size = os.path.getsize(os.path.join(adir, "adapter_model.safetensors"))
    gold = f"training/gold/{args.catalogue}.dev.jsonl"
    n_gold = len(common.read_jsonl(os.path.join(common.ROOT, gold)))
    lines = [
        f"# LoRA adapter: `{args.catalogue}` catalogue",
        "",
        f"PEFT LoRA for SmolLM2-135M-Instruct (`{common.MODEL_FILE}`, the daemon's default model), trained to route "
        f"requests for `examples/catalogues/{args.catalogue}.tools.json` with the daemon's own prompt "
        "(`toolrouter render-prompt`). Files: `adapter_config.json`, `adapter_model.safetensors` "
        f"({size / 1e6:.2f} MB, float32), `train_info.json` (every setting and figure below).",
        "",
        "Weights are in the Hugging Face layout of the base (transformers undoes the GGUF q/k RoPE row permutation "
        "when it loads the GGUF): an engine that uses the GGUF layout must permute the `q_proj`/`k_proj` `lora_B` rows "
        "per head (rows as [heads, 2, head/2], swap the two middle axes). `v_proj` needs nothing.",
        "",
        "## Training",
        "",
        "| | |",
        "|---|---|",
        f"| data | {info['rows']} synthetic rows, `{info['rows_file']}` (`training/make_data.py`, seed 1), "
        f"{info['tokens_per_epoch']:,} tokens an epoch, {info['trained_tokens_per_epoch']:,} of them trained (completion + end) |",
        f"| LoRA | r={info['r']}, alpha={info['lora_alpha']}, dropout {info['lora_dropout']}, targets "
        f"{', '.join(info['target_modules'])}, no rsLoRA, no bias |",
        f"| optimiser | {info['optimizer']}, lr {info['lr']}, {info['schedule']} with {info['warmup_steps']} warm-up steps |",
        f"| schedule | {info['epochs']} epochs, batch {info['batch']}, {info['steps']} steps, seed {info['seed']} |",
        f"| precision | base dequantised from the GGUF to float32; bfloat16 autocast for the matmuls: {info['bf16_autocast']} |",
        f"| wall time | {info['train_seconds'] / 60:.1f} min of training ({info['total_seconds'] / 60:.1f} min in all), "
        f"{info['threads']} torch thread(s), niced, on a shared 2-core machine |",
        f"| final loss | {info['final_loss_last_epoch_mean']} (mean of the last epoch's steps), last step {info['final_step_loss']} |",
        f"| tokenizer | HF tokenizer from the GGUF gave render-prompt's ids on all rows ({info['tokenizer_mismatches']} mismatches) |",
        "",
        "## Proxy eval",
        "",
        f"`training/eval_greedy.py` on `{gold}` ({n_gold} hand-written rows, never trained on): unconstrained greedy "
        "decoding with transformers, no grammar. Argument match counts rows whose gold is a tool and whose output is "
        "valid JSON; it needs the right tool and exactly equal arguments (relaxed: free text compared ignoring case, "
        "spaces and punctuation). False tool calls are over the no_tool rows.",
        "",
        "| model | valid JSON | tool accuracy | argument match | relaxed | false tool call |",
        "|---|---|---|---|---|---|",
    ]
    if "base" in ev:
        lines.append(row("base (no adapter)", ev["base"]["metrics"]))
    lines.append(row("base + this adapter", ev["adapter"]["metrics"]))
    lines += ["", "Targets for shipping (to be measured with the daemon's constrained decoder): tool accuracy ≥ 90%, "
              "argument match ≥ 85%, false tool calls ≤ 5%.", ""]
    fails = ev["adapter"]["failures"]
    if fails:
        lines += [f"Misses of the adapter ({len(fails)}):", ""]
        for f in fails:
            lines.append(f"- `{f['prompt']}` → `{f['got']}` (want `{json.dumps(f['want'], ensure_ascii=False)}`)")
        lines.append("")
    with open(os.path.join(adir, "README.md"), "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {os.path.join(adir, 'README.md')}")


if __name__ == "__main__":
    main()
