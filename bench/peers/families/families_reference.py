#!/usr/bin/env python3
"""Independent float64 references of the Qwen2, Qwen3 (dense and MoE), Mixtral, Granite, Phi-3, Gemma 3 (text) and SmolLM3
decoders, and the tiny random checkpoints jtune's family tests use.

Written from the architectures' published definitions (transformers' modeling_qwen2 / modeling_qwen3 / modeling_qwen3_moe /
modeling_mixtral / modeling_granite / modeling_phi3 / modeling_gemma3 / modeling_smollm3, configuration_qwen2 /
configuration_qwen3 / configuration_qwen3_moe / configuration_mixtral / configuration_granite / configuration_phi3 / configuration_gemma3 / configuration_smollm3 and the longrope init of modeling_rope_utils), with plain
torch ops: no transformers, no safetensors package. Runs with Debian's /usr/bin/python3 and
python3-torch (1.13): apt-get install -y python3-torch.

Commands
  make FAMILY DIR            write the tiny checkpoint of FAMILY (qwen2 | qwen3 | qwen3_moe | mixtral | granite | phi3 | gemma3 | smollm3) into DIR: config.json
                             and model.safetensors (F32), weights from the counter-based generator below
  reference DIR [--json F]   run the reference on a checkpoint folder (any config of these families, F32
                             safetensors): greedy ids, full logits, loss and every parameter gradient,
                             as JSON (the Java test's live oracle)
  golden FAMILY              make the tiny checkpoint in a temporary folder, run the reference, and print
                             the small committed reference: ids, a sample of logits, the loss, per-tensor
                             gradient max-abs and norms, and a sample of gradient entries
                             (models/src/test/resources/families/FAMILY-reference.json)

Weights generator (the Java test, FamilyWeights.java, implements the same bits): for tensor NAME
element i (row-major), x = splitmix64(fnv1a64(NAME) + SEED * 0x9E3779B97F4A7C15 + i), u = (x >> 40) / 2^24
in [0, 1), value = float32(center + scale * (2u - 1)) with, by role: norms center 1, scale 0.25;
biases scale 0.5; embeddings scale 0.25; projections scale sqrt(3 / in), lm_head three times that
(so that greedy decoding has clear margins).

Semantics (all families): h = embed[ids]; per layer h += o_proj(attn(rope(q), rope(k), v)) over
input_layernorm(h); h += down(silu(gate) * up) over post_attention_layernorm(h); logits =
head(norm(h)); RMSNorm(x) = w * x / sqrt(mean(x^2) + eps); RoPE rotate_half; GQA kv head j serves
query heads j*rep .. j*rep+rep-1; causal, key k visible from query q when q - k < window (window set).
Qwen2: q/k/v biases; layer l slides when use_sliding_window and (layer_types[l] == sliding_attention,
or l >= max_window_layers when layer_types is absent). Qwen3: as Qwen2, but q/k/v/o biases only with
attention_bias, and each query and key head goes through an RMSNorm over head_dim (q_norm, k_norm)
before RoPE; head_dim defaults to 128. Qwen3-MoE: Qwen3's attention (head_dim defaults to hidden / heads); layer l
is sparse unless l is in mlp_only_layers or (l + 1) % decoder_sparse_step != 0: p = softmax(x @ mlp.gate^T) in float, the
num_experts_per_tok most probable experts per token (divided by their sum when norm_topk_prob), and the layer's MLP is the
sum of those experts' SwiGLU MLPs (mlp.experts.E.{gate,up,down}_proj) times their weights; the reference reports the
smallest gap between the k-th and (k+1)-th probability it met (a choice jtune's float32 could make otherwise). Mixtral:
Llama's attention within sliding_window (when set), and every layer sparse as Qwen3-MoE's with norm_topk_prob, the
router block_sparse_moe.gate and experts block_sparse_moe.experts.E.w1 (gate), w3 (up), w2 (down). Granite: Llama
with h = embed[ids] * embedding_multiplier, scores q.k * attention_multiplier (not 1/sqrt(head_dim)), each layer's
attention and MLP outputs added times residual_multiplier, and logits / logits_scaling. Gemma 3: h = embed[ids] * sqrt(hidden); every RMSNorm scales by
(1 + w); per layer x = norm_in(h), q/k per-head norms before RoPE, scores scaled by query_pre_attn_scalar^-1/2,
h += norm_post_attn(o_proj(attn)), h += norm_post_ffn(down(gelu_tanh(gate) * up)) over norm_pre_ffn(h); a
sliding layer (layer_types, else every sliding_window_pattern-th layer full) attends within the window with
RoPE base rope_local_base_freq, a full one with rope_theta and rope_scaling (linear: positions / factor);
logits soft-capped as cap * tanh(logits / cap) when final_logit_softcapping is set. SmolLM3: Llama (no biases,
no q/k norms) whose layers with no_rope_layers[l] == 0 (by default every fourth: no_rope_layer_interval) attend
without RoPE. Phi-3: qkv_proj = [q | k | v], gate_up_proj =
[gate | up]; RoPE on the first int(head_dim * partial_rotary_factor) channels; LongRoPE:
inv_freq_i = 1 / (ext_i * theta^(2i/rot)), ext = long_factor when the sequence is longer than
original_max_position_embeddings else short_factor, cos and sin times the attention factor
(rope_scaling.attention_factor, else sqrt(1 + ln(s)/ln(orig)) with s = rope_scaling.factor or
max_position_embeddings / orig, 1 when s <= 1). Generation recomputes the whole sequence each step,
so every position of a sequence of length L uses the factors of L (what Phi3ForCausalLM does by
dropping its cache at the switch).
"""

import json
import math
import os
import struct
import sys
import tempfile

import torch

M64 = (1 << 64) - 1
SEED = 17

PROMPT = [1, 17, 42, 99, 3, 150, 7, 88]
NEW_TOKENS = 64
SEQUENCES = {
    "short": [1, 5, 200, 31, 64, 9, 120, 77, 3, 45, 18, 160, 2, 99, 140, 11, 58, 73, 26, 190],
    "long": [(i * 37 + 11) % 199 for i in range(48)],
}

TINY = {
    "qwen2": {
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
        "hidden_size": 60, "intermediate_size": 94, "num_hidden_layers": 3,
        "num_attention_heads": 6, "num_key_value_heads": 3, "vocab_size": 227,
        "max_position_embeddings": 256, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True, "use_sliding_window": True, "sliding_window": 9,
        "max_window_layers": 1, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    },
    "qwen3": {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
        "hidden_size": 56, "intermediate_size": 90, "num_hidden_layers": 3,
        "num_attention_heads": 6, "num_key_value_heads": 2, "head_dim": 14, "vocab_size": 229,
        "max_position_embeddings": 256, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True, "attention_bias": False, "use_sliding_window": False,
        "sliding_window": None, "max_window_layers": 3, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
    },
    "qwen3_moe": {
        "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
        "hidden_size": 40, "intermediate_size": 72, "moe_intermediate_size": 26, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12, "vocab_size": 231,
        "num_experts": 6, "num_experts_per_tok": 2, "norm_topk_prob": True, "decoder_sparse_step": 1,
        "mlp_only_layers": [1], "output_router_logits": False, "router_aux_loss_coef": 0.001,
        "max_position_embeddings": 256, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": True, "attention_bias": False, "use_sliding_window": False,
        "sliding_window": None, "max_window_layers": 3, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
    },
    "mixtral": {
        "architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
        "hidden_size": 48, "intermediate_size": 30, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 1, "vocab_size": 237,
        "num_local_experts": 5, "num_experts_per_tok": 2, "router_jitter_noise": 0.0, "output_router_logits": False,
        "max_position_embeddings": 256, "rope_theta": 1000000.0, "rms_norm_eps": 1e-5, "sliding_window": 11,
        "tie_word_embeddings": False, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    },
    "granite": {
        "architectures": ["GraniteForCausalLM"], "model_type": "granite",
        "hidden_size": 48, "intermediate_size": 80, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 241,
        "embedding_multiplier": 12.0, "residual_multiplier": 0.22, "attention_multiplier": 0.0625, "logits_scaling": 8.0,
        "max_position_embeddings": 256, "rope_theta": 10000000.0, "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
    },
    "gemma3": {
        "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text",
        "hidden_size": 48, "intermediate_size": 80, "num_hidden_layers": 4,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "query_pre_attn_scalar": 12,
        "vocab_size": 233, "max_position_embeddings": 256, "rope_theta": 1000000.0,
        "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        "rms_norm_eps": 1e-6, "sliding_window": 7, "sliding_window_pattern": 2,
        "final_logit_softcapping": 30.0, "attn_logit_softcapping": None, "tie_word_embeddings": True,
        "hidden_activation": "gelu_pytorch_tanh", "bos_token_id": 2, "eos_token_id": 1, "torch_dtype": "float32",
    },
    "smollm3": {
        "architectures": ["SmolLM3ForCausalLM"], "model_type": "smollm3",
        "hidden_size": 48, "intermediate_size": 84, "num_hidden_layers": 4,
        "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 223,
        "max_position_embeddings": 256, "rope_theta": 5000000.0, "rms_norm_eps": 1e-6,
        "no_rope_layer_interval": 2, "use_sliding_window": False, "sliding_window": None,
        "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    },
    "phi3": {
        "architectures": ["Phi3ForCausalLM"], "model_type": "phi3",
        "hidden_size": 84, "intermediate_size": 100, "num_hidden_layers": 3,
        "num_attention_heads": 6, "num_key_value_heads": 2, "vocab_size": 211,
        "max_position_embeddings": 128, "original_max_position_embeddings": 32,
        "partial_rotary_factor": 0.75, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
        "rope_scaling": {"type": "longrope",
                         "short_factor": [1.0, 1.1, 1.25, 1.5, 2.0],
                         "long_factor": [1.0, 1.7, 3.5, 9.0, 21.0]},
        "sliding_window": 50, "tie_word_embeddings": False, "hidden_act": "silu",
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32",
    },
}


# ---------------------------------------------------------------- weights generator

def fnv1a64(s):
    h = 0xCBF29CE484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & M64
    return h


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def role(name):
    if name.endswith("norm.weight"):
        return 1.0, 0.25
    if name.endswith(".bias"):
        return 0.0, 0.5
    if name.endswith("embed_tokens.weight"):
        return 0.0, 0.25
    return None


def generate(name, shape):
    n = 1
    for s in shape:
        n *= s
    r = role(name)
    center, scale = r if r is not None else (0.0, math.sqrt(3.0 / shape[1]) * (3.0 if name == "lm_head.weight" else 1.0))
    key = (fnv1a64(name) + SEED * 0x9E3779B97F4A7C15) & M64
    vals = []
    for i in range(n):
        u = (splitmix64((key + i) & M64) >> 40) / 16777216.0
        vals.append(center + scale * (2.0 * u - 1.0))
    return torch.tensor(vals, dtype=torch.float32).reshape(shape)


def head_dim(c):
    if c["model_type"] == "gemma3_text":
        return c.get("head_dim") or 256
    return c.get("head_dim") or (128 if c["model_type"] == "qwen3" else c["hidden_size"] // c["num_attention_heads"])


QWEN3_LIKE = ("qwen3", "qwen3_moe")
LLAMA_LIKE = ("qwen2", "qwen3", "qwen3_moe", "mixtral", "granite", "smollm3")


def sparse(c, l):
    if c["model_type"] == "mixtral":
        return True
    if c["model_type"] != "qwen3_moe" or c.get("num_experts", 128) <= 0:
        return False
    return l not in (c.get("mlp_only_layers") or []) and (l + 1) % c.get("decoder_sparse_step", 1) == 0


def moe_shape(c):
    """(experts, per token, expert width, normalised, router name, gate / up / down name patterns) of a sparse layer."""
    if c["model_type"] == "mixtral":
        b = "block_sparse_moe."
        return (c.get("num_local_experts", 8), c.get("num_experts_per_tok", 2), c["intermediate_size"], True,
                b + "gate.weight", b + "experts.%d.w1.weight", b + "experts.%d.w3.weight", b + "experts.%d.w2.weight")
    return (c.get("num_experts", 128), c.get("num_experts_per_tok", 8), c.get("moe_intermediate_size", 768),
            c.get("norm_topk_prob", False), "mlp.gate.weight", "mlp.experts.%d.gate_proj.weight",
            "mlp.experts.%d.up_proj.weight", "mlp.experts.%d.down_proj.weight")


def gemma_layer_types(c):
    pattern = c.get("sliding_window_pattern", 6)
    return c.get("layer_types") or ["sliding_attention" if (i + 1) % pattern else "full_attention"
                                    for i in range(c["num_hidden_layers"])]


def rotates(c, l):
    if c["model_type"] != "smollm3":
        return True
    layers = c.get("no_rope_layers") or [int((i + 1) % c.get("no_rope_layer_interval", 4) != 0)
                                         for i in range(c["num_hidden_layers"])]
    return layers[l] == 1


def qkv_bias(c):
    return c["model_type"] == "qwen2" or (c["model_type"] in QWEN3_LIKE and c.get("attention_bias", False))


def shapes(c):
    d, f, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    h = c["num_attention_heads"]
    kvh = c.get("num_key_value_heads") or h
    hd = head_dim(c)
    q, kv = h * hd, kvh * hd
    out = {"model.embed_tokens.weight": [v, d]}
    for l in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % l
        out[p + "input_layernorm.weight"] = [d]
        if c["model_type"] == "gemma3_text":
            out[p + "self_attn.q_proj.weight"] = [q, d]
            out[p + "self_attn.k_proj.weight"] = [kv, d]
            out[p + "self_attn.v_proj.weight"] = [kv, d]
            out[p + "self_attn.q_norm.weight"] = [hd]
            out[p + "self_attn.k_norm.weight"] = [hd]
            out[p + "self_attn.o_proj.weight"] = [d, q]
            out[p + "post_attention_layernorm.weight"] = [d]
            out[p + "pre_feedforward_layernorm.weight"] = [d]
            out[p + "mlp.gate_proj.weight"] = [f, d]
            out[p + "mlp.up_proj.weight"] = [f, d]
            out[p + "mlp.down_proj.weight"] = [d, f]
            out[p + "post_feedforward_layernorm.weight"] = [d]
            continue
        if c["model_type"] in LLAMA_LIKE:
            out[p + "self_attn.q_proj.weight"] = [q, d]
            out[p + "self_attn.k_proj.weight"] = [kv, d]
            out[p + "self_attn.v_proj.weight"] = [kv, d]
            if qkv_bias(c):
                out[p + "self_attn.q_proj.bias"] = [q]
                out[p + "self_attn.k_proj.bias"] = [kv]
                out[p + "self_attn.v_proj.bias"] = [kv]
            if c["model_type"] in QWEN3_LIKE:
                out[p + "self_attn.q_norm.weight"] = [hd]
                out[p + "self_attn.k_norm.weight"] = [hd]
                if c.get("attention_bias", False):
                    out[p + "self_attn.o_proj.bias"] = [d]
        else:
            out[p + "self_attn.qkv_proj.weight"] = [q + 2 * kv, d]
        out[p + "self_attn.o_proj.weight"] = [d, q]
        out[p + "post_attention_layernorm.weight"] = [d]
        if sparse(c, l):
            e, _, fe, _, router, gate, up, down = moe_shape(c)
            out[p + router] = [e, d]
            for j in range(e):
                out[p + gate % j] = [fe, d]
                out[p + up % j] = [fe, d]
                out[p + down % j] = [d, fe]
            continue
        if c["model_type"] in LLAMA_LIKE:
            out[p + "mlp.gate_proj.weight"] = [f, d]
            out[p + "mlp.up_proj.weight"] = [f, d]
        else:
            out[p + "mlp.gate_up_proj.weight"] = [2 * f, d]
        out[p + "mlp.down_proj.weight"] = [d, f]
    out["model.norm.weight"] = [d]
    if not c.get("tie_word_embeddings", c["model_type"] == "gemma3_text"):
        out["lm_head.weight"] = [v, d]
    return out


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors):
    header, blobs, at = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        b = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: dtype %s (the reference reads F32)" % (name, info["dtype"]))
        s, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(raw[8 + n + s:8 + n + e]), dtype=torch.float32)
        out[name] = t.reshape(info["shape"])
    return out


def make(family, folder):
    c = TINY[family]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(folder, "model.safetensors"),
                      {n: generate(n, s) for n, s in shapes(c).items()})


# ---------------------------------------------------------------- the model

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Rope:
    """cos/sin tables of a config for a sequence of length T (float64); Gemma 3's local layers pass their own base."""

    def __init__(self, c, theta=None, scaled=True):
        self.hd = head_dim(c)
        self.theta = float(theta if theta is not None else c.get("rope_theta", 10000.0))
        self.c = c
        self.linear = 1.0
        if c["model_type"] == "gemma3_text":
            rs = c.get("rope_scaling")
            if scaled and rs:
                if rs.get("rope_type", rs.get("type")) != "linear":
                    raise NotImplementedError("gemma3 rope_scaling other than linear in this reference")
                self.linear = float(rs["factor"])
            self.rot = self.hd
            self.longrope = None
        elif c["model_type"] == "phi3":
            self.rot = int(self.hd * c.get("partial_rotary_factor", 1.0))
            rs = c.get("rope_scaling")
            self.longrope = rs if rs and rs.get("rope_type", rs.get("type")) in ("longrope", "su") else None
        else:
            if c.get("rope_scaling"):
                raise NotImplementedError("rope_scaling for qwen2/qwen3 in this reference")
            self.rot = self.hd
            self.longrope = None

    def tables(self, T):
        i = torch.arange(0, self.rot, 2, dtype=torch.float64)
        base = self.theta ** (i / self.rot)
        scale = 1.0
        if self.longrope is not None:
            c, r = self.c, self.longrope
            orig = c.get("original_max_position_embeddings") or r.get("original_max_position_embeddings") \
                or c["max_position_embeddings"]
            factor = r.get("factor") or c["max_position_embeddings"] / orig
            scale = r.get("attention_factor") or (
                1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(orig)))
            ext = torch.tensor(r["long_factor"] if T > orig else r["short_factor"], dtype=torch.float64)
            inv = 1.0 / (ext * base)
        else:
            inv = 1.0 / base / self.linear
        freqs = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos() * scale, emb.sin() * scale

    def apply(self, x, cos, sin):  # x (B, H, T, hd)
        r = self.rot
        xr, xp = x[..., :r], x[..., r:]
        return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)


def layer_window(c, l):
    if c["model_type"] in ("phi3", "mixtral"):
        return c.get("sliding_window") or 0
    if not c.get("use_sliding_window", False) or c.get("sliding_window") is None:
        return 0
    types = c.get("layer_types")
    sliding = types[l] == "sliding_attention" if types else l >= c.get("max_window_layers", 28)
    return c["sliding_window"] if sliding else 0


def gemma_norm(x, w, eps):
    return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)) * (1.0 + w)


def forward_gemma3(c, p, ids):
    """Logits [T, V] of one sequence through a Gemma 3 text decoder (float64)."""
    T = ids.shape[0]
    D, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads") or H
    hd = head_dim(c)
    rep = H // KV
    eps = c["rms_norm_eps"]
    local = Rope(c, theta=c.get("rope_local_base_freq", 10000.0), scaled=False)
    glob = Rope(c)
    tables = {"sliding_attention": local.tables(T), "full_attention": glob.tables(T)}
    types = gemma_layer_types(c)
    qpos = torch.arange(T)[:, None]
    kpos = torch.arange(T)[None, :]
    h = p["model.embed_tokens.weight"][ids] * math.sqrt(D)
    for l in range(c["num_hidden_layers"]):
        pre = "model.layers.%d." % l
        x = gemma_norm(h, p[pre + "input_layernorm.weight"], eps)
        q = (x @ p[pre + "self_attn.q_proj.weight"].T).view(T, H, hd)
        k = (x @ p[pre + "self_attn.k_proj.weight"].T).view(T, KV, hd)
        v = (x @ p[pre + "self_attn.v_proj.weight"].T).view(T, KV, hd).transpose(0, 1)
        q = gemma_norm(q, p[pre + "self_attn.q_norm.weight"], eps)
        k = gemma_norm(k, p[pre + "self_attn.k_norm.weight"], eps)
        cos, sin = tables[types[l]]
        q = glob.apply(q.transpose(0, 1), cos, sin)
        k = glob.apply(k.transpose(0, 1), cos, sin).repeat_interleave(rep, dim=0)
        v = v.repeat_interleave(rep, dim=0)
        allowed = kpos <= qpos
        if types[l] == "sliding_attention":
            allowed = allowed & (qpos - kpos < c["sliding_window"])
        att = (q @ k.transpose(-1, -2)) * c.get("query_pre_attn_scalar", hd) ** -0.5
        att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
        o = (att @ v).transpose(0, 1).reshape(T, H * hd)
        h = h + gemma_norm(o @ p[pre + "self_attn.o_proj.weight"].T, p[pre + "post_attention_layernorm.weight"], eps)
        x = gemma_norm(h, p[pre + "pre_feedforward_layernorm.weight"], eps)
        g = torch.nn.functional.gelu(x @ p[pre + "mlp.gate_proj.weight"].T, approximate="tanh")
        m = (g * (x @ p[pre + "mlp.up_proj.weight"].T)) @ p[pre + "mlp.down_proj.weight"].T
        h = h + gemma_norm(m, p[pre + "post_feedforward_layernorm.weight"], eps)
    h = gemma_norm(h, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if c.get("tie_word_embeddings", True) else p["lm_head.weight"]
    logits = h @ head.T
    cap = c.get("final_logit_softcapping")
    return torch.tanh(logits / cap) * cap if cap else logits


ROUTER_MARGINS = []


def experts(c, p, pre, x):
    """A sparse layer's MLP over x [T, D]: each token to its k most probable experts, weighted."""
    e, k, _, normalised, router, gate, up, down = moe_shape(c)
    probs = torch.softmax(x @ p[pre + router].T, dim=-1)
    weights, chosen = torch.topk(probs, k, dim=-1)
    if k < e:
        ordered = torch.sort(probs.detach(), dim=-1, descending=True).values
        ROUTER_MARGINS.append(float((ordered[:, k - 1] - ordered[:, k]).min()))
    if normalised:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(x)
    for j in range(e):
        tokens, slots = torch.where(chosen == j)
        if tokens.numel() == 0:
            continue
        xe = x[tokens]
        g = xe @ p[pre + gate % j].T
        u = xe @ p[pre + up % j].T
        y = (torch.nn.functional.silu(g) * u) @ p[pre + down % j].T
        out = out.index_add(0, tokens, y * weights[tokens, slots, None])
    return out


def forward(c, p, ids):
    """Logits [T, V] of one sequence (float64)."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    if c["model_type"] == "gemma3_text":
        return forward_gemma3(c, p, ids)
    T = ids.shape[0]
    D, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads") or H
    rope = Rope(c)
    hd, rep = rope.hd, H // KV
    eps = c["rms_norm_eps"]
    cos, sin = rope.tables(T)
    qpos = torch.arange(T)[:, None]
    kpos = torch.arange(T)[None, :]
    granite = c["model_type"] == "granite"
    rm = c.get("residual_multiplier", 1.0) if granite else 1.0
    h = p["model.embed_tokens.weight"][ids] * (c.get("embedding_multiplier", 1.0) if granite else 1.0)
    for l in range(c["num_hidden_layers"]):
        pre = "model.layers.%d." % l
        x = rms_norm(h, p[pre + "input_layernorm.weight"], eps)
        if c["model_type"] in LLAMA_LIKE:
            q = x @ p[pre + "self_attn.q_proj.weight"].T
            k = x @ p[pre + "self_attn.k_proj.weight"].T
            v = x @ p[pre + "self_attn.v_proj.weight"].T
            if qkv_bias(c):
                q = q + p[pre + "self_attn.q_proj.bias"]
                k = k + p[pre + "self_attn.k_proj.bias"]
                v = v + p[pre + "self_attn.v_proj.bias"]
        else:
            qkv = x @ p[pre + "self_attn.qkv_proj.weight"].T
            q, k, v = qkv[:, :H * hd], qkv[:, H * hd:(H + KV) * hd], qkv[:, (H + KV) * hd:]
        q, k = q.view(T, H, hd), k.view(T, KV, hd)
        if c["model_type"] in QWEN3_LIKE:
            q = rms_norm(q, p[pre + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, p[pre + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(0, 1), k.transpose(0, 1)
        if rotates(c, l):
            q = rope.apply(q, cos, sin)
            k = rope.apply(k, cos, sin)
        v = v.view(T, KV, hd).transpose(0, 1)
        k = k.repeat_interleave(rep, dim=0)
        v = v.repeat_interleave(rep, dim=0)
        w = layer_window(c, l)
        allowed = kpos <= qpos
        if w > 0:
            allowed = allowed & (qpos - kpos < w)
        att = (q @ k.transpose(-1, -2)) * (c.get("attention_multiplier", 1.0) if granite else 1 / math.sqrt(hd))
        att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
        o = (att @ v).transpose(0, 1).reshape(T, H * hd)
        h = h + (o @ p[pre + "self_attn.o_proj.weight"].T) * rm
        if pre + "self_attn.o_proj.bias" in p:
            h = h + p[pre + "self_attn.o_proj.bias"]
        x = rms_norm(h, p[pre + "post_attention_layernorm.weight"], eps)
        if sparse(c, l):
            h = h + experts(c, p, pre, x)
            continue
        if c["model_type"] in LLAMA_LIKE:
            g = x @ p[pre + "mlp.gate_proj.weight"].T
            u = x @ p[pre + "mlp.up_proj.weight"].T
        else:
            gu = x @ p[pre + "mlp.gate_up_proj.weight"].T
            g, u = gu.chunk(2, dim=-1)
        h = h + ((torch.nn.functional.silu(g) * u) @ p[pre + "mlp.down_proj.weight"].T) * rm
    h = rms_norm(h, p["model.norm.weight"], eps)
    head = p["model.embed_tokens.weight"] if c.get("tie_word_embeddings", False) else p["lm_head.weight"]
    return (h @ head.T) / (c.get("logits_scaling", 1.0) if granite else 1.0)


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    if c.get("model_type") not in ("qwen2", "qwen3", "qwen3_moe", "mixtral", "granite", "phi3", "gemma3_text", "smollm3"):
        raise ValueError("model_type %r: this reference runs qwen2, qwen3, qwen3_moe, mixtral, granite, phi3, gemma3_text and smollm3"
                         % c.get("model_type"))
    raw = read_safetensors(os.path.join(folder, "model.safetensors"))
    return c, {k: v.to(torch.float64).requires_grad_(True) for k, v in raw.items()}


def reference(folder):
    c, p = load(folder)
    out = {"model_type": c["model_type"], "names": sorted(p),
           "shapes": {k: list(v.shape) for k, v in p.items()}}
    with torch.no_grad():
        seq, ids, margins = list(PROMPT), [], []
        for _ in range(NEW_TOKENS):
            last = forward(c, p, seq)[-1]
            top = torch.topk(last, 2).values
            margins.append(float(top[0] - top[1]))
            nxt = int(torch.argmax(last))
            ids.append(nxt)
            seq.append(nxt)
        out["prompt"] = PROMPT
        out["greedy"] = ids
        out["min_margin"] = min(margins)
        out["logits"] = {k: forward(c, p, s).tolist() for k, s in SEQUENCES.items()}
    s = torch.as_tensor(SEQUENCES["long"])
    logits = forward(c, p, s[:-1])
    loss = torch.nn.functional.cross_entropy(logits, s[1:])
    loss.backward()
    out["sequences"] = SEQUENCES
    out["loss"] = float(loss)
    out["grads"] = {k: v.grad.reshape(-1).tolist() for k, v in p.items()}
    if ROUTER_MARGINS:
        out["min_router_margin"] = min(ROUTER_MARGINS)
    return out


def golden(family):
    with tempfile.TemporaryDirectory() as d:
        make(family, d)
        r = reference(d)
    out = {"family": family, "generator": {"seed": SEED}, "config": TINY[family],
           "prompt": r["prompt"], "greedy": r["greedy"], "min_margin": r["min_margin"],
           "sequences": r["sequences"], "loss": r["loss"], "shapes": r["shapes"]}
    if "min_router_margin" in r:
        out["min_router_margin"] = r["min_router_margin"]
    samples = {}
    for k, rows in r["logits"].items():
        flat = [x for row in rows for x in row]
        idx = sorted({(i * 7919 + 13) % len(flat) for i in range(150)})
        samples[k] = {"index": idx, "value": [flat[i] for i in idx]}
    out["logits"] = samples
    grads = {}
    for k, g in r["grads"].items():
        idx = sorted({(i * 104729 + 7) % len(g) for i in range(8)} | {max(range(len(g)), key=lambda j: abs(g[j]))})
        grads[k] = {"max_abs": max(abs(x) for x in g), "norm": math.sqrt(sum(x * x for x in g)),
                    "index": idx, "value": [g[i] for i in idx]}
    out["grads"] = grads
    return out


def main(argv):
    if len(argv) >= 3 and argv[0] == "make":
        make(argv[1], argv[2])
    elif len(argv) >= 2 and argv[0] == "reference":
        r = reference(argv[1])
        if len(argv) >= 4 and argv[2] == "--json":
            with open(argv[3], "w") as f:
                json.dump(r, f)
        else:
            json.dump(r, sys.stdout)
    elif len(argv) == 2 and argv[0] == "golden":
        json.dump(golden(argv[1]), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
