package io.llamux.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A seeded mutation fuzzer over every .gguf in ../shared/models and ../shared/tokenizer-tests.
 * Each mutated input must either parse (and then be internally consistent) or fail with a
 * GgufException; any other exception or error fails the test. It prints how many inputs it
 * tried and how many ended in each outcome.
 *
 * <p>Speed: parsing costs time proportional to the metadata, and the real vocabularies hold
 * 50,000+ strings (milliseconds per parse). So most inputs come from a small copy of each file,
 * re-encoded with every array cut to a few elements but the same keys, tensor infos and tensor
 * data; a share comes from the unmodified files themselves. Mutations are applied in place and
 * undone after each parse, so no input is copied (only insertions and deletions build a new array).
 *
 * <p>{@code -Dllamux.fuzz.iterations=N} and {@code -Dllamux.fuzz.seed=S} change the run.
 */
class GgufFuzzTest {
    private static final int ITERATIONS = Integer.getInteger("llamux.fuzz.iterations", 120_000);
    private static final long SEED = Long.getLong("llamux.fuzz.seed", 0x6775_6666L);
    /** Share of inputs mutated from the full-size files (the rest from the cut-down copies). */
    private static final double FULL_SHARE = 0.01;
    private static final int SMALL_ARRAYS = 12;
    private static final long[] INTERESTING = {
        0, 1, 2, 3, 4, 5, 7, 8, 13, 31, 32, 33, 63, 64, 255, 256, 0x7FFF, 0xFFFF, 0x10000,
        0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0000L, 1L << 40, 1L << 62,
        Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, -32,
    };

    /** One input file: its bytes, where its integer fields are, and where its tensor data starts. */
    record Seed(String name, byte[] bytes, List<int[]> intFields, int headerEnd) {
    }

    /** An in-place change, undone after the parse. */
    record Undo(byte[] array, int at, byte old) {
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void mutatedFilesGiveOnlyGgufExceptions() throws IOException {
        long setup = System.nanoTime();
        List<Seed> small = new ArrayList<>();
        List<Seed> full = new ArrayList<>();
        for (Path p : SharedFiles.allGguf()) {
            byte[] original = Files.readAllBytes(p);
            try (GgufFile f = GgufFile.parse(p.toString(), MemorySegment.ofArray(original))) {
                // Re-encoding a whole file must give back its exact bytes (up to the final padding, which
                // vocabulary-only files omit): this checks the test writer, and gives the field positions
                // of the real file for integer smashes.
                GgufTestWriter whole = GgufTestWriter.copyOf(f);
                byte[] again = whole.build();
                int common = Math.min(original.length, again.length);
                assertArrayEquals(Arrays.copyOf(original, common), Arrays.copyOf(again, common), p + " re-encoded");
                assertTrue(again.length - common < f.alignment() && original.length - common < f.alignment(), p + " re-encoded");
                full.add(new Seed(p.getFileName().toString(), original, List.copyOf(whole.intFields), (int) f.dataStart()));
                GgufTestWriter cut = GgufTestWriter.copyOf(f).maxArrayLength(SMALL_ARRAYS);
                byte[] b = cut.build();
                GgufFile.parse("cut", MemorySegment.ofArray(b)); // the cut copy is valid to begin with
                small.add(new Seed(p.getFileName().toString() + " (cut)", b, List.copyOf(cut.intFields), cut.at.get("data")));
            }
        }
        assertTrue(full.size() >= 20, "expected the reference files, found " + full.size());

        SplittableRandom rnd = new SplittableRandom(SEED);
        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, Integer> ops = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int unexpected = 0;
        long t0 = System.nanoTime();
        long fullNanos = 0;
        for (int iter = 0; iter < ITERATIONS; iter++) {
            List<Seed> pool = rnd.nextDouble() < FULL_SHARE ? full : small;
            Seed seed = pool.get(rnd.nextInt(pool.size()));
            byte[] work = seed.bytes;
            int len = work.length;
            List<Undo> undo = new ArrayList<>();
            StringBuilder what = new StringBuilder();
            int nOps = rnd.nextInt(8) == 0 ? 2 + rnd.nextInt(3) : 1;
            for (int k = 0; k < nOps && len > 0; k++) {
                int op = rnd.nextInt(7);
                switch (op) {
                    case 0 -> { // bit flips
                        int n = 1 + rnd.nextInt(4);
                        for (int i = 0; i < n; i++) {
                            int at = position(rnd, seed, len);
                            set(work, at, (byte) (work[at] ^ (1 << rnd.nextInt(8))), undo);
                        }
                        what.append("flip ");
                    }
                    case 1 -> { // set bytes to interesting values
                        int n = 1 + rnd.nextInt(4);
                        for (int i = 0; i < n; i++) {
                            int at = position(rnd, seed, len);
                            byte[] vals = {0, (byte) 0xFF, 0x7F, (byte) 0x80, 1, (byte) 0xC3, (byte) 0xED, (byte) rnd.nextInt()};
                            set(work, at, vals[rnd.nextInt(vals.length)], undo);
                        }
                        what.append("byte ");
                    }
                    case 2, 3 -> { // smash an integer field: a count, length, type, dimension or offset
                        int[] field = rnd.nextInt(3) == 0 ? headerField(rnd) : seed.intFields.get(rnd.nextInt(seed.intFields.size()));
                        if (field[0] + field[1] > len) {
                            break;
                        }
                        long old = readLe(work, field[0], field[1]);
                        long v = switch (rnd.nextInt(4)) {
                            case 0 -> old + rnd.nextInt(-3, 4);
                            case 1 -> old * 2 + 1;
                            case 2 -> rnd.nextLong();
                            default -> INTERESTING[rnd.nextInt(INTERESTING.length)];
                        };
                        for (int i = 0; i < field[1]; i++) {
                            set(work, field[0] + i, (byte) (v >>> (8 * i)), undo);
                        }
                        what.append("smash@").append(field[0]).append(' ');
                    }
                    case 4 -> { // truncate
                        len = rnd.nextInt(4) == 0 ? rnd.nextInt(len + 1) : rnd.nextInt(Math.min(len, seed.headerEnd) + 1);
                        what.append("truncate ");
                    }
                    case 5 -> { // overwrite a stretch with bytes from elsewhere in the file
                        int n = 1 + rnd.nextInt(64);
                        int from = rnd.nextInt(len);
                        int to = position(rnd, seed, len);
                        for (int i = 0; i < n && from + i < len && to + i < len; i++) {
                            set(work, to + i, work[from + i], undo);
                        }
                        what.append("splice ");
                    }
                    default -> { // insert or delete bytes in the header (shifts everything after)
                        if (len > 2 << 20) {
                            break;
                        }
                        int at = rnd.nextInt(Math.min(len, seed.headerEnd) + 1);
                        int n = 1 + rnd.nextInt(16);
                        byte[] b;
                        if (rnd.nextBoolean()) {
                            b = new byte[len + n];
                            System.arraycopy(work, 0, b, 0, at);
                            for (int i = 0; i < n; i++) {
                                b[at + i] = (byte) rnd.nextInt();
                            }
                            System.arraycopy(work, at, b, at + n, len - at);
                            what.append("insert ");
                        } else {
                            n = Math.min(n, len - at);
                            b = new byte[len - n];
                            System.arraycopy(work, 0, b, 0, at);
                            System.arraycopy(work, at + n, b, at, len - at - n);
                            what.append("delete ");
                        }
                        work = b;
                        len = b.length;
                    }
                }
            }
            ops.merge(what.isEmpty() ? "unchanged" : what.toString().trim().replaceAll("@\\d+", "").replaceAll(" .*", nOps > 1 ? " (+more)" : ""), 1, Integer::sum);
            String outcome;
            long p0 = System.nanoTime();
            try {
                GgufFile f = GgufFile.parse(seed.name, MemorySegment.ofArray(work).asSlice(0, len));
                checkConsistent(f, len);
                outcome = "parsed";
            } catch (GgufException e) {
                outcome = classify(e.what());
                if (e.offset() < 0 || e.offset() > len) {
                    unexpected++;
                    failures.add(seed.name + " [" + what + "]: offset " + e.offset() + " outside the input: " + e.getMessage());
                }
            } catch (Throwable e) { // anything else is a reader bug: OOM, IndexOutOfBounds, ...
                outcome = "UNEXPECTED " + e.getClass().getSimpleName();
                unexpected++;
                if (failures.size() < 10) {
                    StringBuilder sb = new StringBuilder(seed.name + " [" + what + "] iteration " + iter + ": " + e);
                    for (StackTraceElement el : Arrays.copyOf(e.getStackTrace(), Math.min(6, e.getStackTrace().length))) {
                        sb.append("\n      at ").append(el);
                    }
                    failures.add(sb.toString());
                }
            }
            outcomes.merge(outcome, 1, Integer::sum);
            if (pool == full) {
                fullNanos += System.nanoTime() - p0;
            }
            for (int i = undo.size() - 1; i >= 0; i--) {
                Undo u = undo.get(i);
                u.array[u.at] = u.old;
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        StringBuilder report = new StringBuilder(String.format(
                "GGUF fuzz: %d mutated inputs from %d files (%d cut-down copies, %.0f%% from the full files), seed %d: %.1f s (%.1f s on full files, %.1f s setup)%n",
                ITERATIONS, full.size(), small.size(), FULL_SHARE * 100, SEED, secs, fullNanos / 1e9, (t0 - setup) / 1e9));
        outcomes.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue())
                .forEach(e -> report.append(String.format("  %8d  %s%n", e.getValue(), e.getKey())));
        report.append("  mutations:");
        ops.forEach((k, v) -> report.append(' ').append(k).append('=').append(v));
        System.out.println(report);
        if (unexpected > 0) {
            fail(unexpected + " inputs failed with something other than a GgufException:\n  " + String.join("\n  ", failures));
        }
        assertTrue(ITERATIONS < 100_000 || outcomes.getOrDefault("parsed", 0) > 0, "no mutated input parsed at all: the mutations are too blunt");
        assertEquals(ITERATIONS, outcomes.values().stream().mapToInt(Integer::intValue).sum());
    }

    /** A file that parsed must be what it claims: every tensor inside it, sized by its shape. */
    private static void checkConsistent(GgufFile f, int len) {
        for (TensorInfo t : f.tensors()) {
            MemorySegment d = f.data(t);
            if (d.byteSize() != t.byteSize() || t.rows() * t.rowBytes() != t.byteSize()
                    || f.dataStart() + t.offset() + t.byteSize() > len || t.offset() % f.alignment() != 0) {
                throw new IllegalStateException("inconsistent tensor " + t);
            }
        }
        GgufMetadata m = f.metadata();
        for (String k : m.keys()) {
            if (m.get(k) == null || m.type(k) == null) {
                throw new IllegalStateException("key without value " + k);
            }
        }
        m.archKey("block_count");
    }

    /** Header fields every file has: version, tensor count, metadata count. */
    private static int[] headerField(SplittableRandom rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> new int[] {4, 4};
            case 1 -> new int[] {8, 8};
            default -> new int[] {16, 8};
        };
    }

    /** Mostly in the header, where the parser looks; sometimes anywhere. */
    private static int position(SplittableRandom rnd, Seed seed, int len) {
        int bound = rnd.nextInt(5) == 0 ? len : Math.min(len, seed.headerEnd);
        return rnd.nextInt(Math.max(bound, 1)) % Math.max(len, 1);
    }

    private static void set(byte[] b, int at, byte v, List<Undo> undo) {
        if (at >= b.length) {
            return;
        }
        undo.add(new Undo(b, at, b[at]));
        b[at] = v;
    }

    private static long readLe(byte[] b, int at, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= (b[at + i] & 0xFFL) << (8 * i);
        }
        return v;
    }

    /** Groups error messages by kind, so the report shows which checks fired how often. */
    static String classify(String what) {
        String[][] kinds = {
            {"file ends inside", "truncated"},
            {"not a GGUF file", "bad magic"},
            {"too short", "bad magic"},
            {"version", "bad version"},
            {"big-endian", "bad version"},
            {"UTF-8", "not UTF-8"},
            {"duplicate metadata key", "duplicate key"},
            {"duplicate tensor name", "duplicate tensor"},
            {"unknown value type", "unknown value type"},
            {"unknown element type", "unknown value type"},
            {"boolean", "bad boolean"},
            {"nested more than", "nesting too deep"},
            {"general.alignment", "bad alignment"},
            {"not a multiple of the alignment", "misaligned tensor offset"},
            {"dimensions; ggml allows", "bad dimension count"},
            {"more elements than a 64-bit", "shape overflows"},
            {"larger than 2^63 bytes", "shape overflows"},
            {"is absurd", "absurd dimension or offset"},
            {"which ggml does not define", "unknown ggml type"},
            {"whole number of", "row not whole blocks"},
            {"lies outside the file", "tensor data outside the file"},
            {"overlaps tensor", "overlapping tensors"},
            {"empty metadata key", "empty key or name"},
            {"empty tensor name", "empty key or name"},
            {"is impossible", "count exceeds the file"},
            {"cannot fit in the", "count exceeds the file"},
            {"more than the", "count exceeds the file"},
            {"claims", "length exceeds the file"},
            {"more than Llamux accepts", "count over the limit"},
        };
        for (String[] k : kinds) {
            if (what.contains(k[0])) {
                return "GgufException: " + k[1];
            }
        }
        return "GgufException: other (" + what + ")";
    }
}
