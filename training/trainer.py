#!/usr/bin/env python3
"""Train a PEFT LoRA adapter on rows rendered by `toolrouter train` (token ids + per-token loss weights).

    python trainer.py --rows rendered.jsonl --model SmolLM2-135M-Instruct.Q4_1.gguf --out DIR [--epochs 1 ...]

Each input line is {"prompt_ids": [...], "completion_ids": [...], "end_id": N, "weights": [...]}, with one
weight per completion token plus one for the end token. The loss is the weighted mean cross-entropy over the
completion and end tokens; `toolrouter train` computes the weights (decision tokens count W times), so this
script needs no tokenizer and knows nothing of catalogues.

stdout carries only JSON progress lines, one object each:
    {"event":"start","rows":..,"steps":..,"steps_per_epoch":..,"shared_prefix_tokens":..,"check":{..},..}
    {"event":"step","step":i,"steps":n,"epoch":e,"loss":x,"lr":y,"elapsed_s":t}
    {"event":"checkpoint","epoch":k,"step":i,"path":OUT,"mean_loss":x}
    {"event":"done","steps":n,"train_seconds":t,"final_loss_last_epoch_mean":x,...}
    {"event":"stopped","signal":"SIGTERM","step":i}
Everything else (libraries' chatter, warnings) goes to stderr. After each epoch (and at the end) the adapter
is written into OUT through a temporary directory and per-file renames, so OUT always holds a complete adapter.
"""
import argparse
import json
import math
import os
import random
import shutil
import signal
import sys
import time

# The event stream is the real stdout; anything a library prints goes to stderr instead (fd 1 is pointed at
# fd 2 before torch is imported, so C-level writes are redirected too).
EVENTS = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(event, **fields):
    EVENTS.write(json.dumps({"event": event, **fields}) + "\n")
    EVENTS.flush()


class Stop(Exception):
    """Raised from the SIGINT/SIGTERM handler: the run ends at once, keeping the last checkpoint."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


def on_signal(number, _frame):
    # Once is enough: a Ctrl-C reaches this process from the terminal and again from toolrouter's forwarding.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stop(signal.Signals(number).name)


signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)

import torch  # noqa: E402  (after the redirection above)
import torch.nn.functional as F  # noqa: E402


def read_rows(path):
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            for key in ("prompt_ids", "completion_ids", "end_id", "weights"):
                if key not in row:
                    raise SystemExit(f"{path}:{number}: missing {key!r}")
            if len(row["weights"]) != len(row["completion_ids"]) + 1:
                raise SystemExit(f"{path}:{number}: {len(row['weights'])} weights for "
                                 f"{len(row['completion_ids'])} completion tokens + end")
            if not row["prompt_ids"]:
                raise SystemExit(f"{path}:{number}: empty prompt_ids")
            rows.append(row)
    if not rows:
        raise SystemExit(f"{path}: no rows")
    return rows


def common_prefix(seqs):
    """Longest common prefix of token id lists, kept one token short of the shortest prompt so that every
    row has at least one prompt token after it (the position that predicts its first completion token)."""
    first = seqs[0]
    n = min(len(s) for s in seqs) - 1
    for s in seqs[1:]:
        for i in range(n):
            if s[i] != first[i]:
                n = i
                break
    return first[:max(0, n)]


def load_base(gguf_path):
    """Base weights dequantised to float32 from the GGUF the daemon serves."""
    from transformers import AutoModelForCausalLM
    folder, name = os.path.split(os.path.abspath(gguf_path))
    return AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)


def decoder(model):
    """The transformer body of a plain or PEFT-wrapped causal LM; the caller applies lm_head."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model


def lm_head(model):
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.lm_head


def completion_loss(model, hidden, seqs, n_prompt, weights):
    """Weighted mean cross-entropy over completion + end tokens; the output head runs only on the positions
    that predict them. hidden [B, S, H] over `seqs` (which start where `hidden` starts)."""
    picked, gold, w = [], [], []
    for b, (seq, k) in enumerate(zip(seqs, n_prompt)):
        picked.append(hidden[b, k - 1:len(seq) - 1])   # positions that predict seq[k:]
        gold.extend(seq[k:])
        w.extend(weights[b])
    logits = lm_head(model)(torch.cat(picked)).float()
    nll = F.cross_entropy(logits, torch.tensor(gold), reduction="none")
    w = torch.tensor(w)
    return (nll * w).sum() / w.sum()


def padded(seqs, pad_id, offset=0):
    B, S = len(seqs), max(len(s) for s in seqs)
    ids = torch.full((B, S), pad_id, dtype=torch.long)
    mask = torch.zeros((B, offset + S), dtype=torch.long)
    mask[:, :offset] = 1
    for b, s in enumerate(seqs):
        ids[b, :len(s)] = torch.tensor(s)
        mask[b, offset:offset + len(s)] = 1
    return ids, mask


def shared_loss(model, prefix, batch, pad_id):
    """Run the shared prefix once, repeat its KV cache over the batch, forward the suffixes on top of it.
    Gradients flow back through the repeat, so a batch costs len(prefix) + B * len(suffix) tokens."""
    out = decoder(model)(input_ids=torch.tensor([prefix]), use_cache=True)
    cache = out.past_key_values
    if len(batch) > 1:
        cache.batch_repeat_interleave(len(batch))
    suffixes = [ex["suffix"] for ex in batch]
    ids, mask = padded(suffixes, pad_id, offset=len(prefix))
    pos = torch.arange(len(prefix), len(prefix) + ids.shape[1]).unsqueeze(0).expand(ids.shape[0], -1)
    hidden = decoder(model)(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache,
                            use_cache=True).last_hidden_state
    return completion_loss(model, hidden, suffixes, [ex["n_prompt"] for ex in batch], [ex["weights"] for ex in batch])


def full_loss(model, prefix, batch, pad_id):
    """Plain right-padded full sequences, no prefix sharing: the reference, and the fallback."""
    seqs = [prefix + ex["suffix"] for ex in batch]
    ids, mask = padded(seqs, pad_id)
    hidden = decoder(model)(input_ids=ids, attention_mask=mask).last_hidden_state
    return completion_loss(model, hidden, seqs, [len(prefix) + ex["n_prompt"] for ex in batch],
                           [ex["weights"] for ex in batch])


def bf16_supported():
    """bfloat16 autocast pays only with native bf16 matmuls (AVX-512 BF16 or AMX); elsewhere it is slower."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def save_checkpoint(model, out, base_name):
    """The PEFT adapter into `out`: written to a temporary directory beside it, then each file renamed into
    place (a rename is atomic), so `out` never holds a half-written adapter."""
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, f".checkpoint-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    config_path = os.path.join(tmp, "adapter_config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["base_model_name_or_path"] = base_name   # the GGUF's name, not this machine's folder
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    # Weights first: a crash between the two renames leaves new weights under an unchanged config.
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        os.chmod(os.path.join(tmp, name), 0o644)   # safetensors writes 0600; the daemon may run as another user
        os.replace(os.path.join(tmp, name), os.path.join(out, name))
    shutil.rmtree(tmp, ignore_errors=True)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", required=True, help="rendered rows JSONL (prompt_ids, completion_ids, end_id, weights)")
    ap.add_argument("--model", required=True, help="the base model, a .gguf file")
    ap.add_argument("--out", required=True, help="adapter directory (PEFT)")
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--alpha", type=int, default=16)
    ap.add_argument("--dropout", type=float, default=0.05)
    ap.add_argument("--targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", help="continue this PEFT adapter (its r, alpha and targets win)")
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                    help="bfloat16 autocast for the matmuls (auto: when the CPU has native bf16)")
    ap.add_argument("--max-steps", type=int, help="stop after this many steps (smoke tests)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    rng = random.Random(args.seed)
    t_start = time.time()
    rows = read_rows(args.rows)
    prefix = common_prefix([r["prompt_ids"] for r in rows])
    examples = [{"suffix": r["prompt_ids"][len(prefix):] + r["completion_ids"] + [r["end_id"]],
                 "n_prompt": len(r["prompt_ids"]) - len(prefix), "weights": r["weights"]} for r in rows]
    pad_id = rows[0]["end_id"]
    bf16 = args.bf16 == "on" or (args.bf16 == "auto" and bf16_supported())

    from peft import LoraConfig, PeftModel, get_peft_model
    model = load_base(args.model)
    if args.init:
        model = PeftModel.from_pretrained(model, args.init, is_trainable=True)
        cfg = model.peft_config["default"]
        args.r, args.alpha, args.targets = cfg.r, cfg.lora_alpha, ",".join(sorted(cfg.target_modules))
    else:
        config = LoraConfig(r=args.r, lora_alpha=args.alpha, lora_dropout=args.dropout,
                            target_modules=args.targets.split(","), bias="none", task_type="CAUSAL_LM")
        model = get_peft_model(model, config)

    # Prefix sharing must give the loss of full sequences. lora_B starts at zero, which would hide a wrong
    # adapter path, so the check runs on a perturbed B (restored afterwards). A mismatch falls back to full
    # sequences rather than training on a wrong loss.
    loss_fn = shared_loss if prefix else full_loss
    check = {"shared": None, "full": None, "used": "shared" if prefix else "full"}
    if prefix:
        with torch.no_grad():
            saved = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_B" in n}
            gen = torch.Generator().manual_seed(args.seed)
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
            model.eval()
            batch = examples[:4]
            shared, full = shared_loss(model, prefix, batch, pad_id).item(), full_loss(model, prefix, batch, pad_id).item()
            for n, p in model.named_parameters():
                if "lora_B" in n:
                    p.copy_(saved[n])
        check.update(shared=round(shared, 6), full=round(full, 6))
        if abs(shared - full) > 1e-3 * max(1.0, abs(full)):
            print(f"prefix sharing changes the loss ({shared} vs {full}); training on full sequences", file=sys.stderr)
            loss_fn, check["used"] = full_loss, "full"

    steps_per_epoch = math.ceil(len(examples) / args.batch)
    total_steps = math.ceil(steps_per_epoch * args.epochs)
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        progress = (step - args.warmup) / max(1, total_steps - args.warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * progress))

    n_tokens = sum(len(r["prompt_ids"]) + len(r["completion_ids"]) + 1 for r in rows)
    emit("start", rows=len(rows), steps=total_steps, steps_per_epoch=steps_per_epoch, batch=args.batch,
         epochs=args.epochs, shared_prefix_tokens=len(prefix), tokens_per_epoch=n_tokens,
         trained_tokens_per_epoch=sum(len(r["weights"]) for r in rows), check=check, bf16_autocast=bf16,
         r=args.r, alpha=args.alpha, dropout=args.dropout, targets=args.targets.split(","), lr=args.lr,
         warmup_steps=args.warmup, seed=args.seed, threads=args.threads, torch=torch.__version__,
         trainable_parameters=sum(p.numel() for p in params), setup_seconds=round(time.time() - t_start, 1))

    base_name = os.path.basename(args.model)
    model.train()
    losses, step, order, t_train = [], 0, [], time.time()
    try:
        while step < total_steps:
            if not order:
                order = list(range(len(examples)))
                rng.shuffle(order)
            idx, order = order[:args.batch], order[args.batch:]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model, prefix, [examples[i] for i in idx], pad_id)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            losses.append(loss.item())
            emit("step", step=step, steps=total_steps, epoch=round(step / steps_per_epoch, 4),
                 loss=round(losses[-1], 5), lr=lr_at(step - 1), elapsed_s=round(time.time() - t_train, 2))
            if step % steps_per_epoch == 0 or step == total_steps:
                save_checkpoint(model, args.out, base_name)
                recent = losses[-steps_per_epoch:]
                emit("checkpoint", epoch=round(step / steps_per_epoch, 4), step=step, path=args.out,
                     mean_loss=round(sum(recent) / len(recent), 5))
    except Stop as stop:
        emit("stopped", signal=stop.name, step=step)
        return 128 + int(getattr(signal, stop.name))
    last = losses[-steps_per_epoch:]
    emit("done", steps=step, train_seconds=round(time.time() - t_train, 1), total_seconds=round(time.time() - t_start, 1),
         final_loss_last_epoch_mean=round(sum(last) / len(last), 5), final_step_loss=round(losses[-1], 5),
         first_step_loss=round(losses[0], 5), epochs_done=round(step / steps_per_epoch, 3))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Stop as stop:   # a signal before the training loop (while loading)
        emit("stopped", signal=stop.name, step=0)
        sys.exit(128 + int(getattr(signal, stop.name)))
