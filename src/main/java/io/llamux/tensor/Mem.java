package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian scalar reads and writes of block fields (GGUF data is little-endian, unaligned). */
final class Mem {

    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Mem() {
    }

    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static int i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    static short i16(MemorySegment s, long off) {
        return s.get(I16, off);
    }

    static int u16(MemorySegment s, long off) {
        return s.get(I16, off) & 0xFFFF;
    }

    static long i64(MemorySegment s, long off) {
        return s.get(I64, off);
    }

    static int i32(MemorySegment s, long off) {
        return s.get(I32, off);
    }

    static float f32(MemorySegment s, long off) {
        return s.get(F32, off);
    }

    /** An IEEE half stored at {@code off}, widened exactly. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    static void putI8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    static void putI16(MemorySegment s, long off, int v) {
        s.set(I16, off, (short) v);
    }

    static void putI32(MemorySegment s, long off, int v) {
        s.set(I32, off, v);
    }

    static void putF32(MemorySegment s, long off, float v) {
        s.set(F32, off, v);
    }

    /** Stores {@code v} as an IEEE half, rounded to nearest even (as F16C's vcvtps2ph does). */
    static void putF16(MemorySegment s, long off, float v) {
        s.set(I16, off, Float.floatToFloat16(v));
    }

    static void checkBlocks(GgmlType type, int n) {
        if (n < 0 || n % type.blockSize != 0) {
            throw new IllegalArgumentException(n + " elements is not a whole number of " + type
                    + " blocks of " + type.blockSize);
        }
    }
}
