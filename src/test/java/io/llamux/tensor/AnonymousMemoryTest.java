package io.llamux.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnonymousMemoryTest {

    @Test
    void aMappingIsZeroedWritableAlignedAndGoneWithItsArena() {
        long bytes = (8L << 20) + 12345; // over the mapping threshold, not a whole page
        MemorySegment m;
        try (Arena arena = Arena.ofShared()) {
            m = AnonymousMemory.allocate(arena, bytes, true);
            assertEquals(bytes, m.byteSize());
            assertEquals(0, m.address() % 4096, "a mapping, page-aligned");
            for (long o = 0; o < bytes; o += 4093) {
                assertEquals(0, m.get(ValueLayout.JAVA_BYTE, o), "zero at " + o);
            }
            m.set(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8, 0x0123_4567_89AB_CDEFL);
            assertEquals(0x0123_4567_89AB_CDEFL, m.get(ValueLayout.JAVA_LONG_UNALIGNED, bytes - 8));
            assertTrue(m.scope().isAlive());
        }
        assertFalse(m.scope().isAlive());
        MemorySegment closed = m;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void aSmallBufferComesFromTheArenaZeroedToo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = AnonymousMemory.allocate(arena, 1000, false);
            assertEquals(1000, m.byteSize());
            for (long o = 0; o < 1000; o++) {
                assertEquals(0, m.get(ValueLayout.JAVA_BYTE, o));
            }
        }
    }
}
