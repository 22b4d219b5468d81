#!/usr/bin/env python3
"""Replays jtune's first fine-tuning steps in PyTorch and compares the losses.

Reads the JSON lines of `./jtune bench train_reference --json` on stdin (per step: learning rate, our
loss, the exact micro-batches), runs the same full fine-tuning of stories260K in float32 with
../shared/tools/hf_llama_reference.py's independent Llama forward, torch.optim.AdamW (betas 0.9/0.999,
eps 1e-8, no weight decay), the loss as jtune defines it (sum of cross-entropy over the window's
trained tokens divided by their count, targets -100 ignored) and global-norm clipping at 1.0, and prints
one JSON line per step with both losses and their relative difference (acceptance: <= 1e-4).

Development aid only. Usage:
  ./jtune bench train_reference --json | /usr/bin/python3 bench/peers/torch_first_steps.py ../shared
"""
import json
import os
import sys

import torch

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
sys.path.insert(0, os.path.join(shared, "tools"))
import hf_llama_reference as ref  # noqa: E402

steps = [json.loads(l) for l in sys.stdin if l.startswith("{")]
params = ref.load_model(os.path.join(shared, "models/stories260K"), requires_grad=True, dtype=torch.float32)
opt = torch.optim.AdamW([t for _, t in params.named_parameters()], lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
worst = 0.0
for s in steps:
    for g in opt.param_groups:
        g["lr"] = s["lr"]
    window = sum(sum(1 for t in row if t != -100) for b in s["batches"] for row in b["targets"])
    total = 0.0
    for b in s["batches"]:
        ids = torch.tensor(b["ids"], dtype=torch.long)
        targets = torch.tensor(b["targets"], dtype=torch.long)
        logits = ref.forward(params, ids)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                 ignore_index=-100, reduction="sum") / window
        loss.backward()
        total += float(loss)
    torch.nn.utils.clip_grad_norm_([t for _, t in params.named_parameters()], 1.0)
    opt.step()
    opt.zero_grad()
    rel = abs(total - s["loss"]) / abs(total)
    worst = max(worst, rel)
    print(json.dumps({"step": s["step"], "lr": s["lr"], "jtune_loss": s["loss"], "torch_loss": total, "rel": rel}))
print(json.dumps({"max_rel": worst, "pass": worst <= 1e-4}))
