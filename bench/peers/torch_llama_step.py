#!/usr/bin/env python3
"""PyTorch CPU peer for `jtune bench backward` and `jtune bench train`.

Builds a Llama-shaped model (RMSNorm, rotate_half RoPE, GQA attention, SwiGLU, untied or tied head)
with random float32 weights, then times forward + backward (and optionally an AdamW step) of a
batch of random token ids, with a given thread count. LoRA mode freezes the base weights and trains
rank-r adapters on the chosen projections. Prints one JSON object: median step seconds, tokens/s
and the peak resident set size of this process.

Development aid only: jtune never needs Python at run time or in its tests.
Usage: /usr/bin/python3 torch_llama_step.py --dim 288 --layers 6 --heads 6 --kv-heads 6 \
       --hidden 768 --vocab 32000 --batch 4 --seq 256 --threads 2 [--lora 16 --lora-targets q,k,v,o]
       [--optimizer] [--checkpointing] [--steps 5]
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F
import torch.utils.checkpoint  # a submodule: `import torch` alone does not load it


def rms_norm(x, w, eps=1e-5):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


class Proj(torch.nn.Module):
    """A frozen-or-trainable (out, in) weight with an optional LoRA pair (A Kaiming-uniform, B zeros)."""

    def __init__(self, n_in, n_out, std, lora_rank, alpha):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(n_out, n_in) * std)
        self.lora = lora_rank > 0
        if self.lora:
            self.weight.requires_grad_(False)
            self.a = torch.nn.Parameter(torch.empty(lora_rank, n_in))
            torch.nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
            self.b = torch.nn.Parameter(torch.zeros(n_out, lora_rank))
            self.scale = alpha / lora_rank

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora:
            y = y + F.linear(F.linear(x, self.a), self.b) * self.scale
        return y


class Block(torch.nn.Module):
    def __init__(self, a, lora_for):
        super().__init__()
        d, hd = a.dim, a.dim // a.heads
        std = 0.02
        mk = lambda name, i, o: Proj(i, o, std, a.lora if name in lora_for else 0, 2 * a.lora)
        self.q, self.k, self.v = mk("q", d, a.heads * hd), mk("k", d, a.kv_heads * hd), mk("v", d, a.kv_heads * hd)
        self.o = mk("o", a.heads * hd, d)
        self.gate, self.up, self.down = mk("gate", d, a.hidden), mk("up", d, a.hidden), mk("down", a.hidden, d)
        self.n1 = torch.nn.Parameter(torch.ones(d))
        self.n2 = torch.nn.Parameter(torch.ones(d))
        if a.lora:
            self.n1.requires_grad_(False)
            self.n2.requires_grad_(False)
        self.heads, self.kv_heads, self.hd = a.heads, a.kv_heads, hd

    def forward(self, h, cos, sin):
        b, t, _ = h.shape
        x = rms_norm(h, self.n1)
        q = self.q(x).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k(x).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v(x).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        rep = self.heads // self.kv_heads
        if rep > 1:
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        # torch 1.13 (Debian) has no fused scaled_dot_product_attention: the eager formulation
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        att = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v
        h = h + self.o(att.transpose(1, 2).reshape(b, t, -1))
        x = rms_norm(h, self.n2)
        return h + self.down(F.silu(self.gate(x)) * self.up(x))


class Model(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        lora_for = set(a.lora_targets.split(",")) if a.lora else set()
        self.embed = torch.nn.Parameter(torch.randn(a.vocab, a.dim) * 0.02)
        self.blocks = torch.nn.ModuleList([Block(a, lora_for) for _ in range(a.layers)])
        self.norm = torch.nn.Parameter(torch.ones(a.dim))
        self.head = torch.nn.Parameter(torch.randn(a.vocab, a.dim) * 0.02)
        if a.lora:
            for p in (self.embed, self.norm, self.head):
                p.requires_grad_(False)
        hd = a.dim // a.heads
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(a.seq).float(), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        self.checkpointing = a.checkpointing

    def forward(self, ids, targets):
        h = F.embedding(ids, self.embed)
        for blk in self.blocks:
            if self.checkpointing:
                h = torch.utils.checkpoint.checkpoint(blk, h, self.cos, self.sin, use_reentrant=False)
            else:
                h = blk(h, self.cos, self.sin)
        logits = F.linear(rms_norm(h, self.norm), self.head)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def main():
    p = argparse.ArgumentParser()
    for name, default in [("dim", 288), ("layers", 6), ("heads", 6), ("kv-heads", 6), ("hidden", 768),
                          ("vocab", 32000), ("batch", 4), ("seq", 256), ("threads", 1), ("lora", 0),
                          ("steps", 5), ("warmup", 2)]:
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--lora-targets", default="q,k,v,o")
    p.add_argument("--optimizer", action="store_true", help="include an AdamW step in the timed step")
    p.add_argument("--checkpointing", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Model(a)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4) if a.optimizer else None
    ids = torch.randint(0, a.vocab, (a.batch, a.seq))
    targets = torch.randint(0, a.vocab, (a.batch, a.seq))
    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = model(ids, targets)
        loss.backward()
        if opt is not None:
            opt.step()
        for q in params:
            q.grad = None
        dt = time.perf_counter() - t0
        if step >= a.warmup:
            times.append(dt)
    times.sort()
    med = times[len(times) // 2]
    print(json.dumps({
        "peer": "pytorch", "torch": torch.__version__, "threads": a.threads,
        "step_s": med, "tokens_per_s": a.batch * a.seq / med,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "loss": float(loss),
        "trainable_params": sum(q.numel() for q in params),
    }))


if __name__ == "__main__":
    main()
