package io.llamux.daemon;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The model file copied into memory the daemon owns, preferably huge pages: the weights
 * are read over and over for every token, and 2 MiB pages cut TLB misses and page-table
 * walks on that stream. In order of preference:
 * <ol>
 *   <li>{@code MAP_HUGETLB}: pages from the reserved pool (vm.nr_hugepages), never swapped
 *       or split;</li>
 *   <li>anonymous memory with {@code madvise(MADV_HUGEPAGE)}: transparent huge pages, as
 *       many as the kernel can assemble;</li>
 *   <li>ordinary pages.</li>
 * </ol>
 * Each fallback is logged as a warning naming the reason. The memory is mlock()ed where
 * RLIMIT_MEMLOCK allows, so the model is never paged out under memory pressure.
 */
public final class ModelMemory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ModelMemory.class);

    public enum Backing {
        HUGETLB("huge pages (MAP_HUGETLB)"),
        TRANSPARENT("transparent huge pages (madvise)"),
        PLAIN("ordinary pages");

        public final String description;

        Backing(String description) {
            this.description = description;
        }
    }

    /** What the user asked for: try huge pages, insist on the reserved pool, or not use them. */
    public enum Policy { AUTO, HUGETLB, OFF }

    private final MemorySegment mapping;
    private final MemorySegment bytes;
    private final Backing backing;
    private final long hugePageSize;
    private final boolean locked;
    private final List<String> warnings;

    private ModelMemory(MemorySegment mapping, long size, Backing backing, long hugePageSize, boolean locked,
                        List<String> warnings) {
        this.mapping = mapping;
        this.bytes = mapping.asSlice(0, size);
        this.backing = backing;
        this.hugePageSize = hugePageSize;
        this.locked = locked;
        this.warnings = List.copyOf(warnings);
    }

    /** How far the copy is: called after each chunk, and once at the end with done == total. */
    @FunctionalInterface
    public interface Progress {
        void copied(long done, long total);

        Progress NONE = (done, total) -> { };
    }

    /** The copy goes in chunks of this many bytes, with a progress report after each. */
    static final long CHUNK = 64L << 20;

    /** Copies {@code file} into new memory chosen by {@code policy}. */
    public static ModelMemory load(Path file, Policy policy) throws IOException {
        return load(file, policy, Progress.NONE);
    }

    /** Copies {@code file} into new memory chosen by {@code policy}, reporting the copy's progress. */
    public static ModelMemory load(Path file, Policy policy, Progress progress) throws IOException {
        long size = Files.size(file);
        if (size == 0) throw new IOException(file + " is empty");
        long pageSize = hugePageSize();
        List<String> warnings = new ArrayList<>();
        MemorySegment mapping = null;
        Backing backing = Backing.PLAIN;

        if (policy != Policy.OFF) {
            long rounded = roundUp(size, pageSize);
            try {
                mapping = Posix.mmapAnonymous(rounded, Posix.MAP_HUGETLB);
                backing = Backing.HUGETLB;
            } catch (Posix.ErrnoException e) {
                String why = "no MAP_HUGETLB mapping of " + mib(rounded) + ": " + Posix.strerror(e.errno)
                        + " (" + hugePoolSummary() + "; reserve " + (rounded / pageSize)
                        + " with: sysctl vm.nr_hugepages=" + (rounded / pageSize) + ")";
                if (policy == Policy.HUGETLB) throw new IOException(why, e);
                warnings.add(why);
            }
        }
        if (mapping == null) {
            mapping = Posix.mmapAnonymous(roundUp(size, 4096), 0);
            if (policy != Policy.OFF) {
                try {
                    Posix.madvise(mapping, Posix.MADV_HUGEPAGE);
                    backing = Backing.TRANSPARENT;
                } catch (Posix.ErrnoException e) {
                    warnings.add("madvise(MADV_HUGEPAGE) failed: " + Posix.strerror(e.errno)
                            + " (transparent huge pages: " + thpMode() + "); using ordinary pages");
                }
            }
        }
        long t0 = System.nanoTime();
        try {
            copy(file, mapping, size, progress);
        } catch (IOException | RuntimeException e) {
            Posix.munmap(mapping);
            throw e;
        }
        boolean locked = false;
        try {
            Posix.mlock(mapping);
            locked = true;
        } catch (Posix.ErrnoException e) {
            warnings.add("mlock of " + mib(mapping.byteSize()) + " failed: " + Posix.strerror(e.errno)
                    + " (RLIMIT_MEMLOCK " + memlockLimit() + "; raise LimitMEMLOCK in the unit); the model may be paged out");
        }
        long ms = Math.max(1, (System.nanoTime() - t0) / 1_000_000);
        ModelMemory m = new ModelMemory(mapping, size, backing, pageSize, locked, warnings);
        for (String w : m.warnings) log.warn("model memory: {}", w);
        log.info("model memory: {}; copied in {} ms ({} MiB/s)", m.describe(), ms,
                String.format(Locale.ROOT, "%.0f", size / 1048576.0 / (ms / 1000.0)));
        return m;
    }

    private static void copy(Path file, MemorySegment to, long size, Progress progress) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment from = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            for (long at = 0; at < size; ) {
                long n = Math.min(CHUNK, size - at);
                MemorySegment.copy(from, at, to, at, n);
                at += n;
                progress.copied(at, size);
            }
        }
    }

    /** The model bytes (exactly the file's length). */
    public MemorySegment bytes() {
        return bytes;
    }

    public Backing backing() {
        return backing;
    }

    public boolean locked() {
        return locked;
    }

    public List<String> warnings() {
        return warnings;
    }

    /** Huge pages holding the model now: the whole mapping for MAP_HUGETLB, else counted in smaps. */
    public long hugePages() {
        return switch (backing) {
            case HUGETLB -> mapping.byteSize() / hugePageSize;
            case TRANSPARENT -> anonHugeBytes(mapping.address()) / hugePageSize;
            case PLAIN -> 0;
        };
    }

    /** One line for the status file and the log. */
    public String describe() {
        return String.format(Locale.ROOT, "%s in %s, %d huge pages of %s, %s", mib(bytes.byteSize()),
                backing.description, hugePages(), mib(hugePageSize), locked ? "locked (mlock)" : "not locked");
    }

    @Override
    public void close() {
        Posix.munmap(mapping);
    }

    static long roundUp(long n, long to) {
        return (n + to - 1) / to * to;
    }

    static String mib(long bytes) {
        return bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? bytes / (1 << 20) + " MiB"
                : String.format(Locale.ROOT, "%.2f MiB", bytes / 1048576.0);
    }

    /** Hugepagesize from /proc/meminfo; 2 MiB when unreadable. */
    static long hugePageSize() {
        long kb = meminfoKb("Hugepagesize");
        return kb > 0 ? kb * 1024 : 2L << 20;
    }

    private static String hugePoolSummary() {
        return "HugePages_Free " + meminfoKb("HugePages_Free") + " of " + meminfoKb("HugePages_Total");
    }

    private static long meminfoKb(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith(key + ":")) return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException ignored) {
            // Only used in messages and for the page size default.
        }
        return -1;
    }

    private static String thpMode() {
        try {
            return Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String memlockLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max locked memory")) {
                    String soft = line.substring("Max locked memory".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? soft : mib(Long.parseLong(soft));
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // Only used in a message.
        }
        return "unknown";
    }

    /** AnonHugePages of the /proc/self/smaps entry that starts at {@code address}. */
    static long anonHugeBytes(long address) {
        try {
            boolean inside = false;
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                int dash = line.indexOf('-');
                if (dash > 0 && line.indexOf(' ') > dash && isHex(line, dash)) {
                    inside = Long.parseUnsignedLong(line.substring(0, dash), 16) == address;
                } else if (inside && line.startsWith("AnonHugePages:")) {
                    return Long.parseLong(line.substring(14).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // Counting is best effort: report 0 rather than fail the daemon.
        }
        return 0;
    }

    private static boolean isHex(String line, int end) {
        for (int i = 0; i < end; i++) {
            if (Character.digit(line.charAt(i), 16) < 0) return false;
        }
        return true;
    }
}
