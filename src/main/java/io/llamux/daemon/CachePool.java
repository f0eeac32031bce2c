package io.llamux.daemon;

import io.llamux.engine.CacheSlot;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The KV caches kept for users, at most {@code capacity} (the daemon's memory bound divided by
 * one cache's size): each user who asks gets one, and keeps it until all are in use and
 * another user asks; then the least recently served user's goes. A cache is off-heap memory
 * the size of the whole context, so caches are allocated only as users come, and reused
 * rather than freed.
 *
 * <p>A slot that changes hands is cleared first: the next user's prompt must not reuse the
 * last one's tokens, or the processed-token counts they read would tell them how another
 * user's conversation began. Used by the generating thread only.
 */
final class CachePool {
    /**
     * The slot a user was given.
     *
     * @param kept       whether it still holds what this user's last request left in it
     * @param evictedUid the user whose slot this was until now, or -1 (a free or new slot)
     */
    record Lease(CacheSlot slot, boolean kept, int evictedUid) {
    }

    private final int capacity;
    private final Supplier<CacheSlot> allocate;
    /** Slots allocated and not held by anyone (the engine's own cache to begin with). */
    private final ArrayDeque<CacheSlot> free = new ArrayDeque<>();
    /** uid -> its slot, least recently served first. */
    private final LinkedHashMap<Integer, CacheSlot> held = new LinkedHashMap<>(16, 0.75f, true);
    private int allocated;

    /**
     * @param first    a slot that exists already (the engine's own), used first
     * @param allocate makes another (the engine's {@code newCacheSlot})
     */
    CachePool(int capacity, CacheSlot first, Supplier<CacheSlot> allocate) {
        if (capacity < 1) throw new IllegalArgumentException("at least one KV cache");
        this.capacity = capacity;
        this.allocate = allocate;
        free.add(first);
        allocated = 1;
    }

    /** The most caches kept at once. */
    int capacity() {
        return capacity;
    }

    /** The caches allocated so far. */
    int allocated() {
        return allocated;
    }

    /** The slot {@code uid}'s request runs on. */
    Lease slotFor(int uid) {
        CacheSlot mine = held.get(uid); // (marks it the most recently used)
        if (mine != null) return new Lease(mine, true, -1);
        int evicted = -1;
        CacheSlot slot = free.poll();
        if (slot == null && allocated < capacity) {
            slot = allocate.get();
            allocated++;
        }
        if (slot == null) {
            Iterator<Map.Entry<Integer, CacheSlot>> oldest = held.entrySet().iterator();
            Map.Entry<Integer, CacheSlot> e = oldest.next();
            evicted = e.getKey();
            slot = e.getValue();
            oldest.remove();
        }
        slot.clear();
        held.put(uid, slot);
        return new Lease(slot, false, evicted);
    }

    /** Whether {@code uid} holds a slot now. */
    boolean holds(int uid) {
        return held.containsKey(uid);
    }
}
