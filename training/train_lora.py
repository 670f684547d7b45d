#!/usr/bin/env python3
"""Train a PEFT LoRA adapter for one catalogue on rows rendered by the daemon itself.

    nice -n 10 training/.venv/bin/python training/train_lora.py --catalogue support \
        --rows training/data/support.train.jsonl --out adapters/support

The rows go through `toolrouter render-prompt`; training uses exactly its prompt_ids,
completion_ids and end_id (loss on completion_ids + end_id only). The base model is
dequantised from the GGUF the daemon serves. All rows share the catalogue's system
prompt, so each batch runs that prefix once and repeats its KV cache (checked
against a plain full-sequence forward at start-up).
"""
import argparse
import json
import math
import os
import random
import re
import time

import torch
import torch.nn.functional as F

import common


def decision_weights(tok, completion, completion_ids, tool, weight):
    """Per-token loss weights for one completion (+ its end token).

    Most completion tokens are copies (JSON punctuation, keys, spans of the request) that the model
    learns at once; the few that decide the call are the tool name, the argument keys, numbers and booleans, and the
    structural tokens that end a value or pick the next key (`","`, `"}}`, `,"amount`). Those carry almost all of the
    remaining loss, so they get `weight`; everything else gets 1."""
    if weight == 1:
        return [1.0] * (len(completion_ids) + 1)
    enc = tok(completion, add_special_tokens=False, return_offsets_mapping=True)
    assert enc["input_ids"] == completion_ids, "offsets tokenisation differs from render-prompt"
    # Characters outside string contents (quotes included) are structural.
    structural, in_string, escaped = [], False, False
    for ch in completion:
        if in_string:
            if escaped:
                escaped = False
                structural.append(False)
            elif ch == "\\":
                escaped = True
                structural.append(False)
            elif ch == '"':
                in_string = False
                structural.append(True)
            else:
                structural.append(False)
        else:
            if ch == '"':
                in_string = True
            structural.append(True)
    name_at = completion.find('"' + tool + '"') + 1
    for i in range(name_at, name_at + len(tool)):
        structural[i] = True
    for key in re.finditer(r'"([^"\\]*)":', completion):  # which argument comes next is a decision too
        for i in range(key.start(1), key.end(1)):
            structural[i] = True
    weights = []
    for start, end in enc["offset_mapping"]:
        # A token made only of forced punctuation ('{"', '":"') is weighted too; its loss is ~0 anyway.
        weights.append(weight if any(structural[start:end]) else 1.0)
    return weights + [1.0]


def completion_loss(model, hidden, examples, n_prompt, weights=None):
    """Cross-entropy over completion + end tokens, a weighted mean when `weights` (one list per row) is
    given. hidden [B, S, H] over the sequences; the output head runs only on the positions that predict
    those tokens."""
    picked, gold, w = [], [], []
    for b, (full, k) in enumerate(zip(examples, n_prompt)):
        picked.append(hidden[b, k - 1:len(full) - 1])   # positions that predict full[k:]
        gold.extend(full[k:])
        w.extend(weights[b] if weights is not None else [1.0] * (len(full) - k))
    logits = common.lm_head(model)(torch.cat(picked)).float()
    nll = F.cross_entropy(logits, torch.tensor(gold), reduction="none")
    w = torch.tensor(w)
    return (nll * w).sum() / w.sum()


def batch_loss(model, prefix, batch, pad_id):
    cache = common.prefix_cache(model, prefix, len(batch))
    suffixes = [ex["suffix"] for ex in batch]
    hidden = common.suffix_forward(model, len(prefix), suffixes, cache, pad_id)
    return completion_loss(model, hidden, suffixes, [ex["n_prompt"] for ex in batch],
                           [ex["weights"] for ex in batch])


def full_loss(model, batch_full, pad_id, weights):
    """Reference: plain right-padded full sequences, no prefix sharing."""
    B, S = len(batch_full), max(len(f) for f, _ in batch_full)
    ids = torch.full((B, S), pad_id, dtype=torch.long)
    mask = torch.zeros((B, S), dtype=torch.long)
    for b, (f, _) in enumerate(batch_full):
        ids[b, :len(f)] = torch.tensor(f)
        mask[b, :len(f)] = 1
    hidden = common.decoder(model)(input_ids=ids, attention_mask=mask).last_hidden_state
    return completion_loss(model, hidden, [f for f, _ in batch_full], [k for _, k in batch_full], weights)


def fix_config(path):
    """Name the base by its GGUF file rather than this machine's model folder."""
    with open(path) as f:
        cfg = json.load(f)
    cfg["base_model_name_or_path"] = common.MODEL_FILE
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--catalogue", required=True, help="name under examples/catalogues (support, devops)")
    ap.add_argument("--rows", required=True, help="training rows JSONL ({prompt, target})")
    ap.add_argument("--out", required=True, help="adapter directory (PEFT save_pretrained)")
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--alpha", type=int, default=32)
    ap.add_argument("--dropout", type=float, default=0.05)
    ap.add_argument("--targets", default="q_proj,v_proj")
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--decision-weight", type=float, default=1.0,
                    help="loss weight of the tool-name and structural tokens (1 = plain mean)")
    ap.add_argument("--init", help="continue training this PEFT adapter (its r, alpha and targets win)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-bf16", dest="bf16", action="store_false",
                    help="train in float32 (default: bfloat16 autocast for matmuls; weights and optimizer stay float32)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t_start = time.time()

    catalogue = common.catalogue_path(args.catalogue)
    rendered = common.render_rows(catalogue, args.rows)
    tok, model = common.load_base()

    # The HF tokenizer (from the GGUF) must agree with the daemon's tokenizer. (render-prompt encodes a
    # control-token string written in a request as plain text; HF would parse it, so such a row fails here.)
    mismatches = 0
    for r in rendered:
        if (tok(r["prompt"], add_special_tokens=False)["input_ids"] != r["prompt_ids"]
                or tok(r["completion"], add_special_tokens=False)["input_ids"] != r["completion_ids"]):
            mismatches += 1
    print(f"tokenizer check: {len(rendered) - mismatches}/{len(rendered)} rows identical to render-prompt ids")
    assert mismatches == 0, f"{mismatches} rows tokenise differently in HF than in render-prompt"

    prefix = common.common_prefix([r["prompt_ids"] for r in rendered])
    examples = []
    for r in rendered:
        p = r["prompt_ids"][len(prefix):]
        tool = json.loads(r["completion"])["tool"]
        examples.append({"suffix": p + r["completion_ids"] + [r["end_id"]], "n_prompt": len(p),
                         "weights": decision_weights(tok, r["completion"], r["completion_ids"], tool,
                                                     args.decision_weight)})
    n_tokens = sum(len(r["prompt_ids"]) + len(r["completion_ids"]) + 1 for r in rendered)
    n_target = sum(len(r["completion_ids"]) + 1 for r in rendered)
    print(f"{len(examples)} rows, shared prefix {len(prefix)} tokens, {n_tokens} tokens "
          f"({n_target} trained), longest row {max(len(r['prompt_ids']) + len(r['completion_ids']) + 1 for r in rendered)}")
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else rendered[0]["end_id"]

    from peft import LoraConfig, PeftModel, get_peft_model
    if args.init:
        model = PeftModel.from_pretrained(model, args.init, is_trainable=True)
        cfg = model.peft_config["default"]
        args.r, args.alpha, args.targets = cfg.r, cfg.lora_alpha, ",".join(sorted(cfg.target_modules))
        with open(os.path.join(args.init, "train_info.json")) as f:
            args.init_info = json.load(f)
    else:
        config = LoraConfig(r=args.r, lora_alpha=args.alpha, lora_dropout=args.dropout,
                            target_modules=args.targets.split(","), bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model, config)
        args.init_info = None
    model.print_trainable_parameters()

    # Prefix sharing must give the same loss as full sequences (B on a random init of B is zero; perturb it).
    with torch.no_grad():
        saved_b = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_B" in n}
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.02)
        model.eval()
        batch = examples[:4]
        shared = batch_loss(model, prefix, batch, pad_id).item()
        full = full_loss(model, [(prefix + ex["suffix"], len(prefix) + ex["n_prompt"]) for ex in batch], pad_id,
                         [ex["weights"] for ex in batch]).item()
        print(f"prefix-sharing check: shared {shared:.6f} vs full {full:.6f}")
        assert abs(shared - full) < 1e-3 * max(1.0, abs(full)), "prefix sharing changes the loss"
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(saved_b[n])   # zeros for a fresh adapter, the loaded B with --init

    steps_per_epoch = math.ceil(len(examples) / args.batch)
    total_steps = math.ceil(steps_per_epoch * args.epochs)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, total_steps - args.warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * progress))

    model.train()
    log, step, t_train = [], 0, time.time()
    order = []
    while step < total_steps:
        if not order:
            order = list(range(len(examples)))
            rng.shuffle(order)
        idx, order = order[:args.batch], order[args.batch:]
        batch = [examples[i] for i in idx]
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = batch_loss(model, prefix, batch, pad_id)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        step += 1
        elapsed = time.time() - t_train
        log.append({"step": step, "epoch": round(step / steps_per_epoch, 3), "loss": round(loss.item(), 5),
                    "lr": lr_at(step - 1), "seconds": round(elapsed, 1)})
        if step % 5 == 0 or step == total_steps:
            print(f"step {step}/{total_steps} epoch {step / steps_per_epoch:.2f} loss {loss.item():.4f} "
                  f"lr {lr_at(step - 1):.2e} {elapsed:.0f}s", flush=True)

        if step % steps_per_epoch == 0 or step == total_steps:  # checkpoint at every epoch end
            save(model, args, log, steps_per_epoch, total_steps, step, time.time() - t_train, t_start,
                 len(examples), n_tokens, n_target, len(prefix), mismatches)


def save(model, args, log, steps_per_epoch, total_steps, step, train_seconds, t_start, n_rows, n_tokens, n_target,
         n_prefix, mismatches):
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out)
    fix_config(os.path.join(args.out, "adapter_config.json"))
    last = [e["loss"] for e in log[-steps_per_epoch:]]
    info = {"catalogue": args.catalogue, "rows": n_rows, "rows_file": os.path.relpath(args.rows, common.ROOT),
            "tokens_per_epoch": n_tokens, "trained_tokens_per_epoch": n_target, "shared_prefix_tokens": n_prefix,
            "r": args.r, "lora_alpha": args.alpha, "lora_dropout": args.dropout, "target_modules": args.targets.split(","),
            "epochs": args.epochs, "epochs_done": round(step / steps_per_epoch, 2), "batch": args.batch, "lr": args.lr, "warmup_steps": args.warmup, "schedule": "cosine",
            "optimizer": "AdamW (weight_decay 0, grad clip 1.0)", "steps": total_steps, "steps_done": step, "seed": args.seed,
            "threads": args.threads, "bf16_autocast": args.bf16, "train_seconds": round(train_seconds, 1),
            "total_seconds": round(time.time() - t_start, 1),
            "final_loss_last_epoch_mean": round(sum(last) / len(last), 5), "final_step_loss": log[-1]["loss"],
            "tokenizer_mismatches": mismatches, "torch": torch.__version__,
            "decision_weight": args.decision_weight, "init": args.init_info}
    with open(os.path.join(args.out, "train_info.json"), "w") as f:
        json.dump(info, f, indent=1)
    os.makedirs(os.path.join(common.ROOT, "training", "runs"), exist_ok=True)
    with open(os.path.join(common.ROOT, "training", "runs", f"{args.catalogue}.log.json"), "w") as f:
        json.dump({"info": info, "log": log}, f)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
