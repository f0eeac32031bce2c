package io.llamux.daemon;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelMemoryTest {
    @TempDir
    Path dir;

    /** An odd-sized file, so rounding to pages and copying exactly the file's bytes are both exercised. */
    private Path file(int size) throws IOException {
        byte[] b = new byte[size];
        new Random(42).nextBytes(b);
        return Files.write(dir.resolve("model.bin"), b);
    }

    private static void assertSameBytes(Path file, MemorySegment m) throws IOException {
        assertArrayEquals(Files.readAllBytes(file), m.toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void autoCopiesTheFileAndSaysWhereItLives() throws IOException {
        Path f = file(5 * 1024 * 1024 + 123);
        try (ModelMemory m = ModelMemory.load(f, ModelMemory.Policy.AUTO)) {
            assertEquals(Files.size(f), m.bytes().byteSize());
            assertSameBytes(f, m.bytes());
            assertTrue(m.backing() != ModelMemory.Backing.PLAIN, "huge pages tried: " + m.backing());
            // Any fallback from the reserved pool is explained, naming the sysctl to set.
            if (m.backing() != ModelMemory.Backing.HUGETLB) {
                assertTrue(m.warnings().stream().anyMatch(w -> w.contains("sysctl vm.nr_hugepages=3")), m.warnings().toString());
            } else {
                assertEquals(3, m.hugePages(), "5 MiB rounds up to three 2 MiB pages");
            }
            long pages = m.hugePages();
            assertTrue(pages >= 0 && pages <= 3, "huge pages " + pages);
            assertTrue(m.describe().startsWith("5.00 MiB in " + m.backing().description + ", " + pages + " huge pages of 2 MiB"),
                    m.describe());
        }
    }

    @Test
    void offUsesOrdinaryPages() throws IOException {
        Path f = file(100_001);
        try (ModelMemory m = ModelMemory.load(f, ModelMemory.Policy.OFF)) {
            assertEquals(ModelMemory.Backing.PLAIN, m.backing());
            assertEquals(0, m.hugePages());
            assertSameBytes(f, m.bytes());
            assertTrue(m.describe().contains("ordinary pages, 0 huge pages"), m.describe());
        }
    }

    @Test
    void insistingOnTheReservedPoolFailsClearlyWhenItIsEmpty() throws IOException {
        Path f = file(3 * 1024 * 1024);
        ModelMemory m = null;
        try {
            m = ModelMemory.load(f, ModelMemory.Policy.HUGETLB);
            // A machine with free reserved pages: the pool is used.
            assertEquals(ModelMemory.Backing.HUGETLB, m.backing());
            assertEquals(2, m.hugePages());
            assertSameBytes(f, m.bytes());
        } catch (IOException e) {
            assertTrue(e.getMessage().startsWith("no MAP_HUGETLB mapping of 4 MiB: "), e.getMessage());
            assertTrue(e.getMessage().contains("sysctl vm.nr_hugepages=2"), e.getMessage());
        } finally {
            if (m != null) m.close();
        }
    }

    @Test
    void emptyOrMissingFilesAreRefused() throws IOException {
        Path empty = Files.createFile(dir.resolve("empty.gguf"));
        assertTrue(assertThrows(IOException.class, () -> ModelMemory.load(empty, ModelMemory.Policy.AUTO))
                .getMessage().contains("is empty"));
        assertThrows(IOException.class, () -> ModelMemory.load(dir.resolve("missing.gguf"), ModelMemory.Policy.AUTO));
    }

    @Test
    void sizesAreRoundedAndNamed() {
        assertEquals(4L << 20, ModelMemory.roundUp(3 * 1024 * 1024 + 1, 2L << 20));
        assertEquals(2L << 20, ModelMemory.roundUp(2L << 20, 2L << 20));
        assertEquals("2 MiB", ModelMemory.mib(2L << 20));
        assertEquals("0.50 MiB", ModelMemory.mib(1L << 19));
        assertFalse(ModelMemory.hugePageSize() <= 0);
    }
}
