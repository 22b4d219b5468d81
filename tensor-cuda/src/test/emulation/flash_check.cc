// Contract: runs flash.cu's three kernels (forward, dq, dk/dv; head dims 64 and 128) on the CPU through common.cuh's emulation and
// compares them with a double-precision reference of attention and its gradients, for GQA ratios 1, 2, 4,
// lengths that end inside and on the 64-row blocks and the 32/64-row tiles, and the mask kinds (causal, KV-cache
// offset, sliding window, packed segments, bidirectional, rows that see no key). Inputs are exact in BF16; the
// bound per element is 4·2⁻⁸·Σ|terms| of its sum (P and dS rounded to BF16) + 1e-5·(1 + Σ|terms|).
// Argument `quick`: ratio 2 and length 65 only. Prints one line per case and exits 1 on the first mismatch (naming case, tensor, index, got and want).
#include "common.cuh"
#include "flash.cu"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

dim3 threadIdx, blockIdx, blockDim;
FiberBarrier* blockBarrier;
FiberBarrier* warpBarriers[32];
float warpExchange[32][32];
unsigned warpFragments[32][32][6];

// The fibers of the block being run: one per CUDA thread, resumed in turn by launch().
static ucontext_t scheduler;
static std::vector<ucontext_t> fiberContexts;
static std::vector<bool> fiberDone;
static std::vector<std::vector<char>> fiberStacks;
static int currentFiber;
static const std::function<void()>* currentKernel;

void yield_fiber() {
    swapcontext(&fiberContexts[currentFiber], &scheduler);
}

static void fiberEntry() {
    (*currentKernel)();
    fiberDone[currentFiber] = true;  // returning resumes uc_link, the scheduler
}

static void launch(int gx, int gy, int gz, int threads, const std::function<void()>& kernel) {
    blockDim = {threads, 1, 1};
    FiberBarrier block;
    block.n = threads;
    FiberBarrier warps[32];
    for (int w = 0; w < threads / 32; w++) {
        warps[w].n = 32;
        warpBarriers[w] = &warps[w];
    }
    blockBarrier = &block;
    currentKernel = &kernel;
    fiberContexts.assign(threads, ucontext_t{});
    fiberStacks.assign(threads, std::vector<char>(256 << 10));
    for (int z = 0; z < gz; z++) for (int y = 0; y < gy; y++) for (int x = 0; x < gx; x++) {
        blockIdx = {x, y, z};
        fiberDone.assign(threads, false);
        for (int i = 0; i < threads; i++) {
            getcontext(&fiberContexts[i]);
            fiberContexts[i].uc_stack.ss_sp = fiberStacks[i].data();
            fiberContexts[i].uc_stack.ss_size = fiberStacks[i].size();
            fiberContexts[i].uc_link = &scheduler;
            makecontext(&fiberContexts[i], fiberEntry, 0);
        }
        for (int live = threads; live > 0;) {
            live = 0;
            for (int i = 0; i < threads; i++) {
                if (fiberDone[i]) continue;
                currentFiber = i;
                threadIdx = {i, 0, 0};
                swapcontext(&scheduler, &fiberContexts[i]);
                if (!fiberDone[i]) live++;
            }
        }
    }
}

static float bf16Exact(std::mt19937_64& rng) {
    std::normal_distribution<float> n;
    return bf16_to_float(float_to_bf16(n(rng)));
}

struct Case {
    int D, B, T, S, Hq, Hkv, causal, window, qOff;
    bool segments;
};

static bool close(const char* what, const Case& c, const char* tensor, const std::vector<float>& got, const std::vector<double>& want,
                  const std::vector<double>& abs) {
    for (size_t i = 0; i < got.size(); i++) {
        double tol = 4 * 0x1p-8 * abs[i] + 1e-5 * (1 + abs[i]);
        if (!(std::fabs(got[i] - want[i]) <= tol)) {
            std::printf("MISMATCH %s (D %d B %d T %d S %d Hq %d Hkv %d causal %d window %d qOff %d seg %d) %s[%zu]: got %.7g want %.7g (tol %.3g)\n",
                        what, c.D, c.B, c.T, c.S, c.Hq, c.Hkv, c.causal, c.window, c.qOff, c.segments, tensor, i, got[i], want[i], tol);
            return false;
        }
    }
    return true;
}

static bool check(const char* what, const Case& c, std::mt19937_64& rng) {
    const int D = c.D, G = c.Hq / c.Hkv;
    std::vector<float> q((size_t) c.B * c.T * c.Hq * D), k((size_t) c.B * c.S * c.Hkv * D), v(k.size()), dO(q.size());
    for (auto* x : {&q, &k, &v, &dO}) for (auto& e : *x) e = bf16Exact(rng);
    std::vector<int> seg;
    if (c.segments) {
        seg.resize((size_t) c.B * c.S);
        for (int b = 0; b < c.B; b++) {
            int s = 0;
            for (int j = 0; j < c.S; j++) { if (j > 0 && rng() % 7 == 0) s++; seg[b * c.S + j] = s; }
        }
    }
    AttShape a{c.B, c.T, c.S, c.Hq, c.Hkv, D, c.causal, c.window, c.qOff, 1.f / std::sqrt((float) D)};
    const int* sp = c.segments ? seg.data() : nullptr;
    std::vector<float> out(q.size()), lse((size_t) c.B * c.T * c.Hq), delta(lse.size()), dq(q.size()), dk(k.size()), dv(k.size());
    launch((c.T + 63) / 64, c.Hq, c.B, 128, [&] {
        if (D == 64) flash_fwd_bf16_d64(q.data(), k.data(), v.data(), sp, out.data(), lse.data(), a);
        else flash_fwd_bf16_d128(q.data(), k.data(), v.data(), sp, out.data(), lse.data(), a);
    });
    for (size_t r = 0; r < lse.size(); r++) {
        double s = 0;
        for (int e = 0; e < D; e++) s += (double) out[r * D + e] * dO[r * D + e];
        delta[r] = (float) s;
    }
    launch((c.T + 63) / 64, c.Hq, c.B, 128, [&] {
        if (D == 64) flash_bwd_dq_bf16_d64(q.data(), k.data(), v.data(), sp, dO.data(), lse.data(), delta.data(), dq.data(), a);
        else flash_bwd_dq_bf16_d128(q.data(), k.data(), v.data(), sp, dO.data(), lse.data(), delta.data(), dq.data(), a);
    });
    int keyRows = D == 64 ? 64 : 32;  // the dk/dv entries' key rows per block (4 or 2 warps)
    launch((c.S + keyRows - 1) / keyRows, c.Hkv, c.B, keyRows * 2, [&] {
        if (D == 64) flash_bwd_dkv_bf16_d64(q.data(), k.data(), v.data(), sp, dO.data(), lse.data(), delta.data(), dk.data(), dv.data(), a);
        else flash_bwd_dkv_bf16_d128(q.data(), k.data(), v.data(), sp, dO.data(), lse.data(), delta.data(), dk.data(), dv.data(), a);
    });
    // The reference, in double, with Δ from the kernel's own out (as the backend computes it).
    std::vector<double> wOut(q.size()), aOut(q.size()), wLse(lse.size()), aLse(lse.size(), 0), wDq(q.size()), aDq(q.size()),
            wDk(k.size()), aDk(k.size()), wDv(k.size()), aDv(k.size());
    double scale = a.scale;
    for (int b = 0; b < c.B; b++) for (int i = 0; i < c.T; i++) for (int h = 0; h < c.Hq; h++) {
        int pos = c.qOff + i, hk = h / G;
        size_t row = ((size_t) b * c.T + i) * c.Hq + h;
        std::vector<double> s(c.S, -INFINITY);
        double mx = -INFINITY;
        for (int j = 0; j < c.S; j++) {
            bool vis = (!c.causal || j <= pos) && (c.window <= 0 || pos - j < c.window) && (!c.segments || seg[b * c.S + j] == seg[b * c.S + pos]);
            if (!vis) continue;
            double dot = 0;
            for (int e = 0; e < D; e++) dot += (double) q[row * D + e] * k[(((size_t) b * c.S + j) * c.Hkv + hk) * D + e];
            s[j] = scale * dot;
            mx = std::max(mx, s[j]);
        }
        if (mx == -INFINITY) { wLse[row] = -INFINITY; continue; }
        double sum = 0;
        for (int j = 0; j < c.S; j++) if (s[j] > -INFINITY) sum += std::exp(s[j] - mx);
        double l = mx + std::log(sum);
        wLse[row] = l;
        aLse[row] = std::fabs(l) + 1;
        for (int j = 0; j < c.S; j++) {
            if (s[j] == -INFINITY) continue;
            size_t kr = (((size_t) b * c.S + j) * c.Hkv + hk) * D;
            double p = std::exp(s[j] - l), dp = 0;
            for (int e = 0; e < D; e++) dp += (double) dO[row * D + e] * v[kr + e];
            double ds = p * (dp - delta[row]);
            for (int e = 0; e < D; e++) {
                wOut[row * D + e] += p * v[kr + e];
                aOut[row * D + e] += p * std::fabs(v[kr + e]);
                wDq[row * D + e] += scale * ds * k[kr + e];
                aDq[row * D + e] += scale * std::fabs(ds * k[kr + e]) + scale * p * std::fabs(k[kr + e]) * 1e-3;
                wDk[kr + e] += scale * ds * q[row * D + e];
                aDk[kr + e] += scale * std::fabs(ds * q[row * D + e]) + scale * p * std::fabs(q[row * D + e]) * 1e-3;
                wDv[kr + e] += p * dO[row * D + e];
                aDv[kr + e] += p * std::fabs(dO[row * D + e]);
            }
        }
    }
    for (size_t r = 0; r < lse.size(); r++) {
        if (wLse[r] == -INFINITY && lse[r] == -INFINITY) { wLse[r] = 0; lse[r] = 0; }
    }
    bool ok = close(what, c, "out", out, wOut, aOut) && close(what, c, "lse", lse, wLse, aLse) && close(what, c, "dq", dq, wDq, aDq)
            && close(what, c, "dk", dk, wDk, aDk) && close(what, c, "dv", dv, wDv, aDv);
    if (ok) std::printf("ok %s (D %d B %d T %d S %d Hq %d Hkv %d causal %d window %d qOff %d seg %d)\n", what, c.D, c.B, c.T, c.S, c.Hq, c.Hkv,
                        c.causal, c.window, c.qOff, c.segments);
    return ok;
}

int main(int argc, char** argv) {
    bool quick = argc > 1 && std::strcmp(argv[1], "quick") == 0;  // one ratio, one length: for trying a change
    std::mt19937_64 rng(2026);
    for (int D : {64, 128}) for (int ratio : {1, 2, 4}) {
        if (quick && ratio != 2) continue;
        for (int len : {2, 17, 64, 65, 150}) {
            if (quick && len != 65) continue;
            if (D == 128 && (len == 2 || len == 64)) continue;  // fewer lengths for the larger head dim
            int hkv = 1 + (int) (rng() % 2), b = 1 + (int) (rng() % 2), hq = hkv * ratio;
            Case cases[] = {
                    {D, b, len, len, hq, hkv, 1, 0, 0, false},                                    // causal prefill
                    {D, b, std::max(2, len / 2), len, hq, hkv, 1, 0, len - std::max(2, len / 2), false},  // KV-cache offset
                    {D, b, std::max(2, len / 3), len, hq, hkv, 1, 1 + (int) (rng() % 40), len - std::max(2, len / 3), false},  // window
                    {D, b, len, len, hq, hkv, 1, 0, 0, true},                                     // packed segments
                    {D, b, 2 + (int) (rng() % 70), len, hq, hkv, 0, 0, 0, false},                  // bidirectional
                    {D, b, 3, len, hq, hkv, 0, 2, len, false},                                     // rows 1.. see no key
            };
            const char* names[] = {"causal", "offset", "window", "segments", "bidirectional", "no-key rows"};
            for (int i = 0; i < 6; i++) if (!check(names[i], cases[i], rng)) return 1;
        }
    }
    std::puts("all cases match");
    return 0;
}
