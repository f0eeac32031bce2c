package io.llamux.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.tensor.GgmlType;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sparse file of 4.5 GiB whose tensors lie past the 2 GiB and 4 GiB marks: offsets and
 * sizes are longs end to end, and the mapping is not limited to a ByteBuffer's 2 GiB.
 * The holes take no disk space.
 */
class GgufLargeFileTest {
    private static final long GIB = 1L << 30;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void tensorsPastTwoAndFourGibReadTheRightBytes(@TempDir Path dir) throws Exception {
        long farOffset = 3 * GIB;           // data section offset, so the absolute offset is > 3 GiB
        long fartherOffset = 4 * GIB + 4096; // past 4 GiB: a 32-bit offset would wrap
        GgufTestWriter w = new GgufTestWriter().headerOnly()
                .str("general.architecture", "llama")
                .tensor("near", GgmlType.F32.id, 0, 4)
                .tensor("far", GgmlType.F32.id, farOffset, 16, 2)
                .tensor("farther", GgmlType.Q8_0.id, fartherOffset, 64, 3);
        byte[] header = w.build();
        long dataStart = w.at.get("data");
        long fileSize = 4 * GIB + GIB / 2;
        Path file = dir.resolve("big.gguf");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(fileSize);
            raf.seek(0);
            raf.write(header, 0, (int) dataStart);
            raf.seek(dataStart + farOffset);
            for (int i = 0; i < 32; i++) {
                raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(i * 0.5f - 3f)));
            }
            raf.seek(dataStart + fartherOffset);
            for (int i = 0; i < 3 * 2 * 34; i++) {
                raf.write(i * 13 + 5);
            }
        }
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(fileSize, f.size());
            TensorInfo far = f.requireTensor("far");
            assertEquals(farOffset, far.offset());
            assertTrue(f.dataStart() + far.offset() > 2 * GIB);
            MemorySegment d = f.data(far);
            assertEquals(128, d.byteSize());
            for (int i = 0; i < 32; i++) {
                assertEquals(i * 0.5f - 3f, d.get(F32, 4L * i), "element " + i);
            }
            TensorInfo farther = f.requireTensor("farther");
            assertEquals(3 * 2 * 34, farther.byteSize()); // 3 rows of two 32-element blocks
            MemorySegment q = f.data(farther);
            for (int i = 0; i < q.byteSize(); i++) {
                assertEquals((byte) (i * 13 + 5), q.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            }
            // The hole between tensors reads as zeros, and the last bytes of the file are reachable.
            assertEquals(0f, f.data(f.requireTensor("near")).get(F32, 0));
            assertEquals(0, f.bytes().get(ValueLayout.JAVA_BYTE, fileSize - 1));
        }
    }

    @Test
    void aTensorEndingOneBytePastTheEndOfALargeFileIsRejected(@TempDir Path dir) throws Exception {
        long offset = 3 * GIB;
        GgufTestWriter w = new GgufTestWriter().headerOnly().tensor("t", GgmlType.F32.id, offset, 8);
        byte[] header = w.build();
        long dataStart = w.at.get("data");
        Path file = dir.resolve("short.gguf");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(dataStart + offset + 31);
            raf.write(header, 0, (int) dataStart);
        }
        try {
            GgufFile.open(file).close();
            throw new AssertionError("expected a GgufException");
        } catch (GgufException e) {
            assertTrue(e.getMessage().startsWith(file + ": at byte " + w.at.get("tensor:t")), e.getMessage());
            assertTrue(e.what().contains("lies outside the file"), e.getMessage());
        }
    }
}
