package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.jtune.quant.GgmlType;
import org.junit.jupiter.api.Test;

/** The per-tensor types of an export, as llama.cpp's quantizer picks them, on TinyLlama's shapes (22 layers). */
class HfToGgufTypesTest {
    private static final long[] SQUARE = {2048, 2048}, KV = {2048, 256}, UP = {2048, 5632}, DOWN = {5632, 2048}, EMBD = {2048, 32000};

    @Test
    void q4kIsTheQ4KMMixture() {
        List<Integer> sixBits = new ArrayList<>();
        for (int i = 0; i < 22; i++) {
            GgmlType v = HfToGguf.tensorType("blk." + i + ".attn_v.weight", KV, GgmlType.Q4_K, false, 22);
            assertEquals(v, HfToGguf.tensorType("blk." + i + ".ffn_down.weight", DOWN, GgmlType.Q4_K, false, 22));
            if (v == GgmlType.Q6_K) sixBits.add(i);
            assertEquals(GgmlType.Q4_K, HfToGguf.tensorType("blk." + i + ".attn_q.weight", SQUARE, GgmlType.Q4_K, false, 22));
            assertEquals(GgmlType.Q4_K, HfToGguf.tensorType("blk." + i + ".ffn_up.weight", UP, GgmlType.Q4_K, false, 22));
        }
        assertEquals(List.of(0, 1, 4, 7, 10, 13, 16, 19, 20, 21), sixBits);      // i < 2, i >= 19, (i − 2) % 3 == 2
        assertEquals(GgmlType.Q6_K, HfToGguf.tensorType("output.weight", EMBD, GgmlType.Q4_K, false, 22));
        assertEquals(GgmlType.Q4_K, HfToGguf.tensorType("token_embd.weight", EMBD, GgmlType.Q4_K, false, 22));
        assertEquals(GgmlType.F32, HfToGguf.tensorType("blk.0.attn_norm.weight", new long[] {2048}, GgmlType.Q4_K, false, 22));
    }

    @Test
    void fallbacksWhenRowsAreNotWholeBlocks() {
        long[] odd = {172, 64}, by32 = {96, 64};
        assertEquals(GgmlType.F16, HfToGguf.tensorType("blk.0.ffn_down.weight", odd, GgmlType.Q8_0, false, 5));
        assertEquals(GgmlType.F16, HfToGguf.tensorType("blk.0.ffn_down.weight", odd, GgmlType.Q4_0, false, 5));
        assertEquals(GgmlType.Q8_0, HfToGguf.tensorType("blk.1.ffn_up.weight", by32, GgmlType.Q4_K, false, 5));
        assertEquals(GgmlType.Q8_0, HfToGguf.tensorType("token_embd.weight", new long[] {64, 512}, GgmlType.Q4_0, true, 5));
        assertEquals(GgmlType.Q4_0, HfToGguf.tensorType("token_embd.weight", new long[] {64, 512}, GgmlType.Q4_0, false, 5));
        assertEquals(GgmlType.F32, HfToGguf.tensorType("blk.0.attn_q.weight", odd, GgmlType.F32, false, 5));
    }
}
