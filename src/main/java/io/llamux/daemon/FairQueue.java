package io.llamux.daemon;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * Requests waiting for the (single) generator, served round robin by uid and in arrival
 * order within one uid: a user who queues ten prompts delays another user's one prompt by
 * at most one answer, not ten. Thread-safe.
 */
final class FairQueue<T> {
    private final ToIntFunction<T> uidOf;
    private final ToLongFunction<T> idOf;
    /** uid to its waiting requests; iteration order is the round-robin order. */
    private final LinkedHashMap<Integer, ArrayDeque<T>> byUid = new LinkedHashMap<>();
    private int size;
    private boolean closed;

    FairQueue(ToIntFunction<T> uidOf, ToLongFunction<T> idOf) {
        this.uidOf = uidOf;
        this.idOf = idOf;
    }

    synchronized void add(T item) {
        byUid.computeIfAbsent(uidOf.applyAsInt(item), u -> new ArrayDeque<>()).addLast(item);
        size++;
        notifyAll();
    }

    /** The next request in round-robin order; null once closed or after the timeout. */
    synchronized T take(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (size == 0 && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return null;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        if (closed) return null;
        Iterator<Map.Entry<Integer, ArrayDeque<T>>> it = byUid.entrySet().iterator();
        Map.Entry<Integer, ArrayDeque<T>> first = it.next();
        T item = first.getValue().pollFirst();
        it.remove();
        // A uid with more waiting goes to the back of the line.
        if (!first.getValue().isEmpty()) byUid.put(first.getKey(), first.getValue());
        size--;
        notifyAll();
        return item;
    }

    /** Removes and returns the waiting request with this id, or null. */
    synchronized T remove(long id) {
        for (Iterator<ArrayDeque<T>> it = byUid.values().iterator(); it.hasNext(); ) {
            ArrayDeque<T> q = it.next();
            for (Iterator<T> qi = q.iterator(); qi.hasNext(); ) {
                T item = qi.next();
                if (idOf.applyAsLong(item) == id) {
                    qi.remove();
                    if (q.isEmpty()) it.remove();
                    size--;
                    notifyAll();
                    return item;
                }
            }
        }
        return null;
    }

    /** Waits until fewer than {@code limit} are waiting (or the timeout passes); true if so. */
    synchronized boolean awaitRoom(int limit, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (size >= limit && !closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return false;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return size < limit;
    }

    synchronized int size() {
        return size;
    }

    /** Closes the queue and returns what was still waiting, in serving order. */
    synchronized java.util.List<T> close() {
        closed = true;
        java.util.List<T> left = new java.util.ArrayList<>();
        while (size > 0) {
            Iterator<Map.Entry<Integer, ArrayDeque<T>>> it = byUid.entrySet().iterator();
            Map.Entry<Integer, ArrayDeque<T>> first = it.next();
            left.add(first.getValue().pollFirst());
            it.remove();
            if (!first.getValue().isEmpty()) byUid.put(first.getKey(), first.getValue());
            size--;
        }
        notifyAll();
        return left;
    }
}
