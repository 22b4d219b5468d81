package org.jtune.serve.engine;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The requests accepted and not yet started, first come first served, at most {@code limit} of them.
 * Callers offer (and learn at once when it is full: HTTP 429); the engine's scheduler takes work from
 * it between steps, blocking only when it has nothing else to do. A waiting request that is cancelled
 * is removed so that it never starts.
 */
final class WaitingQueue<T> {
    private final ArrayDeque<T> items = new ArrayDeque<>();
    private final int limit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();

    WaitingQueue(int limit) {
        if (limit < 1) throw new IllegalArgumentException("queue limit must be >= 1, got " + limit);
        this.limit = limit;
    }

    /** Adds at the tail; false when the queue is at its limit. */
    boolean offer(T item) {
        lock.lock();
        try {
            if (items.size() >= limit) return false;
            items.addLast(item);
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Removes this item if it is still waiting; true when it was. */
    boolean remove(T item) {
        lock.lock();
        try {
            return items.remove(item);
        } finally {
            lock.unlock();
        }
    }

    /** The head, or null at once when empty. */
    T poll() {
        lock.lock();
        try {
            return items.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    /** The head, waiting at most {@code millis} for one; null when none came. */
    T poll(long millis) throws InterruptedException {
        long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
        lock.lock();
        try {
            while (items.isEmpty()) {
                if (nanos <= 0) return null;
                nanos = notEmpty.awaitNanos(nanos);
            }
            return items.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes a scheduler blocked in {@link #poll(long)} (shutdown). */
    void wakeUp() {
        lock.lock();
        try {
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return items.size();
        } finally {
            lock.unlock();
        }
    }
}
