// Contract: the attention mask rules shared by attention.cu (F32 SIMT kernels and the score-buffer kernels)
// and flash.cu (tensor-core kernels). AttShape is the by-value kernel parameter packed by
// org.jtune.tensor.cuda.CudaLayouts.attention (ten 4-byte fields). Query i has position qOff + i; key j is
// visible when (!causal || j <= pos) && (window <= 0 || pos - j < window) and, when seg (B, S) I32 is not
// null, seg[b][j] == seg[b][pos].
#pragma once

struct AttShape {
    int B, T, S, Hq, Hkv, D, causal, window, qOff;
    float scale;
};

__device__ __forceinline__ bool visible(const AttShape& a, const int* seg, int b, int qpos, int j) {
    if (j < 0 || j >= a.S) return false;
    if (a.causal && j > qpos) return false;
    if (a.window > 0 && qpos - j >= a.window) return false;
    if (seg && seg[(long long) b * a.S + j] != seg[(long long) b * a.S + qpos]) return false;
    return true;
}

// The keys a query at qpos may see lie in [jBegin, jEnd) (causal bound and window; segments checked per key).
__device__ __forceinline__ void visible_range(const AttShape& a, int qpos, int* jBegin, int* jEnd) {
    *jEnd = a.causal ? max(0, min(a.S, qpos + 1)) : a.S;
    *jBegin = a.window > 0 ? min(*jEnd, max(0, qpos - a.window + 1)) : 0;
}

