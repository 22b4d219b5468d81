package org.jtune.models.tokenizer;

import java.util.Arrays;

/**
 * The pending merges of one BPE word: a binary min-heap of longs packing (rank << 32 | position), so the
 * lowest rank pops first and, among equal ranks, the leftmost position — the order of Hugging Face's BPE.
 */
final class MergeQueue {
    private long[] heap = new long[16];
    private int size;

    void clear() {
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void push(int rank, int position) {
        if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
        long entry = ((long) rank << 32) | position;
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= entry) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = entry;
    }

    /** Removes and returns the smallest entry; read it with {@link #rank} and {@link #position}. */
    long pop() {
        long top = heap[0];
        long last = heap[--size];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= last) break;
            heap[i] = heap[child];
            i = child;
        }
        if (size > 0) heap[i] = last;
        return top;
    }

    static int rank(long entry) {
        return (int) (entry >>> 32);
    }

    static int position(long entry) {
        return (int) entry;
    }
}
