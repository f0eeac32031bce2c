package io.llamux.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Large zeroed buffers (repacked weights, the KV cache) as anonymous mappings: the kernel hands
 * out zero pages as they are first written, so nothing is written twice and nothing never
 * written is resident. {@link Arena#allocate} fills every byte with zeros first, on the
 * allocating thread: for a 7B model's 3.6 GB of repacked weights that pass was over half of the
 * load time, and a 4096-token F16 cache (2 GiB) was resident before its first token. Unmapped
 * when the arena closes. Where mmap is not there (not Linux) or fails, {@link Arena#allocate}.
 */
public final class AnonymousMemory {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MADV_HUGEPAGE = 14;
    /** Below this, the allocator's own memory is as good and a mapping costs a system call. */
    private static final long MIN_MAPPED = 1L << 20;

    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;

    static {
        MethodHandle mmap = null;
        MethodHandle munmap = null;
        MethodHandle madvise = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            if (System.getProperty("os.name", "").startsWith("Linux")) {
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
            }
        } catch (RuntimeException | LinkageError e) {
            mmap = null; // no native access (e.g. --enable-native-access missing): Arena.allocate
        }
        MMAP = mmap;
        MUNMAP = munmap;
        MADVISE = madvise;
    }

    private AnonymousMemory() {
    }

    /**
     * {@code bytes} of zeros, page-aligned, valid until {@code arena} closes. {@code hugePages}
     * asks for transparent huge pages (weights streamed end to end: fewer TLB misses and page
     * faults).
     */
    public static MemorySegment allocate(Arena arena, long bytes, boolean hugePages) {
        if (MMAP == null || bytes < MIN_MAPPED) {
            return arena.allocate(bytes, 64);
        }
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            return arena.allocate(bytes, 64);
        }
        if (p.address() == -1L) {
            return arena.allocate(bytes, 64);
        }
        if (hugePages) {
            try {
                int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_HUGEPAGE); // advice only: failure is fine
            } catch (Throwable ignored) {
                // as above
            }
        }
        long address = p.address();
        return p.reinterpret(bytes, arena, s -> unmap(address, bytes));
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable ignored) {
            // nothing to do at close: the process keeps the mapping
        }
    }
}
