package io.llamux.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Small GGUF files built in memory: every value type, both versions, and each kind of damage. */
class GgufParserTest {
    private static GgufTestWriter model() {
        return new GgufTestWriter()
                .str("general.architecture", "testarch")
                .u32("testarch.block_count", 2)
                .kv("testarch.rope.freq_base", GgufValueType.FLOAT32, 500000f)
                .tensor("token_embd.weight", GgmlType.F32, 8, 4)
                .tensor("blk.0.w", GgmlType.Q4_0, 64, 2)
                .tensor("norm", GgmlType.F32, 8);
    }

    private static GgufFile parse(byte[] b) throws GgufException {
        return GgufFile.parse("test.gguf", MemorySegment.ofArray(b));
    }

    /** Parses damaged bytes and returns the error, checking its form. */
    private static GgufException fails(byte[] b, String expectedText) {
        GgufException e = assertThrows(GgufException.class, () -> parse(b));
        assertTrue(e.getMessage().startsWith("test.gguf: at byte " + e.offset() + ": "), e.getMessage());
        assertTrue(e.what().contains(expectedText), () -> "expected '" + expectedText + "' in: " + e.getMessage());
        assertTrue(e.offset() >= 0 && e.offset() <= b.length, e.getMessage());
        return e;
    }

    private static void putU32(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, (int) v);
    }

    private static void putU64(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void readsVersionsTwoAndThree(int version) throws Exception {
        GgufTestWriter w = model().version(version);
        byte[] b = w.build();
        GgufFile f = parse(b);
        assertEquals(version, f.version());
        assertEquals("testarch", f.architecture());
        assertEquals(2, f.metadata().archInt("block_count", -1));
        assertEquals(500000f, f.metadata().archFloat("rope.freq_base", 0));
        assertEquals(-7, f.metadata().archInt("missing", -7));
        assertEquals(List.of("token_embd.weight", "blk.0.w", "norm"), f.tensors().stream().map(TensorInfo::name).toList());
        TensorInfo q = f.requireTensor("blk.0.w");
        assertEquals(GgmlType.Q4_0, q.type());
        assertEquals(64, q.rowLength());
        assertEquals(2, q.rows());
        assertEquals(128, q.elementCount());
        assertEquals(2 * 18, q.rowBytes());
        assertEquals(2 * 2 * 18, q.byteSize());
        assertEquals((long) w.at.get("data"), f.dataStart());
        assertEquals(0, f.dataStart() % 32);
        // data() is the bytes the writer put there: pattern k*31 + i*7 + 1 for tensor i.
        MemorySegment d = f.data(q);
        for (int k = 0; k < d.byteSize(); k++) {
            assertEquals((byte) (k * 31 + 7 + 1), d.get(ValueLayout.JAVA_BYTE, k));
        }
        assertEquals(b[(int) (f.dataStart() + q.offset())], d.get(ValueLayout.JAVA_BYTE, 0));
        assertTrue(d.isReadOnly());
        assertTrue(f.tensor("nope").isEmpty());
    }

    @Test
    void allThirteenValueTypesAndNestedArrays() throws Exception {
        GgufArray nested = GgufTestWriter.array(GgufValueType.ARRAY, new GgufArray[] {
            GgufTestWriter.array(GgufValueType.INT16, new short[] {-1, 2}),
            GgufTestWriter.array(GgufValueType.STRING, new String[] {"é", ""}),
        });
        byte[] b = new GgufTestWriter()
                .str("general.architecture", "x")
                .kv("u8", GgufValueType.UINT8, 0xFFL)
                .kv("i8", GgufValueType.INT8, -2L)
                .kv("u16", GgufValueType.UINT16, 0xFFFFL)
                .kv("i16", GgufValueType.INT16, -3L)
                .kv("u32", GgufValueType.UINT32, 0xFFFF_FFFFL)
                .kv("i32", GgufValueType.INT32, -4L)
                .kv("f32", GgufValueType.FLOAT32, 1.5f)
                .kv("bool", GgufValueType.BOOL, true)
                .kv("str", GgufValueType.STRING, "héllo ✓ 🙂")
                .kv("u64", GgufValueType.UINT64, -1L)
                .kv("i64", GgufValueType.INT64, Long.MIN_VALUE)
                .kv("f64", GgufValueType.FLOAT64, 0.1)
                .kv("arr_f32", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.FLOAT32, new float[] {1f, -2.5f}))
                .kv("arr_u8", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.UINT8, new byte[] {(byte) 200, 1}))
                .kv("arr_u32", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.UINT32, new int[] {7, 8, 9}))
                .kv("arr_bool", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.BOOL, new byte[] {1, 0}))
                .kv("arr_str", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.STRING, new String[] {"a", "bc"}))
                .kv("nested", GgufValueType.ARRAY, nested)
                .build();
        GgufMetadata m = parse(b).metadata();
        assertEquals(List.of("general.architecture", "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "u64", "i64", "f64",
                "arr_f32", "arr_u8", "arr_u32", "arr_bool", "arr_str", "nested"), List.copyOf(m.keys()));
        assertEquals(255L, m.get("u8"));
        assertEquals(-2L, m.get("i8"));
        assertEquals(65535L, m.get("u16"));
        assertEquals(-3L, m.get("i16"));
        assertEquals(4294967295L, m.get("u32"));
        assertEquals(-4L, m.get("i32"));
        assertEquals(1.5f, m.get("f32"));
        assertEquals(Boolean.TRUE, m.get("bool"));
        assertEquals("héllo ✓ 🙂", m.get("str"));
        assertEquals(-1L, m.get("u64"), "UINT64 keeps its bit pattern");
        assertEquals(Long.MIN_VALUE, m.get("i64"));
        assertEquals(0.1, m.get("f64"));
        assertEquals(GgufValueType.UINT64, m.type("u64"));
        assertEquals(1.5f, m.getFloat("f32", 0));
        assertEquals(0.1f, m.getFloat("f64", 0));
        assertEquals(-4, m.getInt("i32", 0));
        assertTrue(m.getBoolean("bool", false));
        assertThrows(IllegalArgumentException.class, () -> m.getInt("u32", 0), "does not fit an int");
        assertThrows(IllegalArgumentException.class, () -> m.getInt("str", 0));
        assertThrows(IllegalArgumentException.class, () -> m.getString("u8", ""));
        assertArrayEquals(new float[] {1f, -2.5f}, m.getFloatArray("arr_f32"));
        assertArrayEquals(new int[] {200, 1}, m.getIntArray("arr_u8"));
        assertArrayEquals(new int[] {7, 8, 9}, m.getIntArray("arr_u32"));
        assertArrayEquals(new String[] {"a", "bc"}, m.getStringArray("arr_str"));
        assertTrue(m.getArray("arr_bool").getBoolean(0));
        assertFalse(m.getArray("arr_bool").getBoolean(1));
        GgufArray n = m.getArray("nested");
        assertEquals(GgufValueType.ARRAY, n.elementType());
        assertEquals(-1L, n.getArray(0).getLong(0));
        assertEquals("é", n.getArray(1).getString(0));
        assertEquals(nested, n);
        assertNull(m.getStringArray("absent"));
        assertEquals("dflt", m.getString("absent", "dflt"));
    }

    @Test
    void honoursGeneralAlignment() throws Exception {
        GgufTestWriter w = model().kv("general.alignment", GgufValueType.UINT32, 256L);
        GgufFile f = parse(w.build());
        assertEquals(256, f.alignment());
        assertEquals(0, f.dataStart() % 256);
        for (TensorInfo t : f.tensors()) {
            assertEquals(0, t.offset() % 256, t.name());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 3, 48, 1L << 40})
    void rejectsAlignmentThatIsNotAPowerOfTwo(long alignment) {
        byte[] b = new GgufTestWriter().kv("general.alignment", GgufValueType.UINT64, alignment).build();
        fails(b, "general.alignment");
    }

    @Test
    void rejectsBadMagicAndVersions() {
        byte[] b = model().build();
        b[0] = 'G';
        b[3] = 'X';
        assertTrue(fails(b, "not a GGUF file").offset() == 0);
        fails(new byte[] {'G', 'G'}, "too short");
        fails(model().version(1).build(), "version 1 is not supported");
        fails(model().version(4).build(), "unsupported GGUF version 4");
        fails(model().version(0x03000000).build(), "big-endian");
    }

    /** Cutting the file anywhere, even inside the last tensor's data, is an error at or before the cut. */
    @Test
    void truncationAnywhereIsAnError() {
        byte[] b = model().kv("arr", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.STRING, new String[] {"ab", "c"})).build();
        for (int len = 0; len < b.length; len++) {
            byte[] cut = java.util.Arrays.copyOf(b, len);
            GgufException e = assertThrows(GgufException.class, () -> parse(cut), "cut at " + len);
            assertTrue(e.offset() <= b.length, e.getMessage());
        }
    }

    @Test
    void rejectsAbsurdCountsWithoutAllocating() {
        GgufTestWriter w = model();
        byte[] b = w.build();
        putU64(b, w.at.get("kv_count"), 1L << 40);
        fails(b, "metadata count 1099511627776 is impossible");
        b = w.build();
        putU64(b, w.at.get("tensor_count"), -1L);
        fails(b, "tensor count 18446744073709551615 is impossible");
        w = model().kv("arr", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.UINT64, new long[] {1, 2}));
        b = w.build();
        putU64(b, w.at.get("array_count:arr"), Long.MAX_VALUE / 4);
        fails(b, "more than the");
        b = w.build();
        putU64(b, w.at.get("key:testarch.block_count"), -2L);
        fails(b, "claims 18446744073709551614 bytes");
    }

    @Test
    void rejectsTensorDataOutsideTheFile() {
        GgufTestWriter w = model();
        byte[] b = w.build();
        putU64(b, w.at.get("offset:norm"), 1L << 20);
        fails(b, "lies outside the file");
        b = w.build();
        putU64(b, w.at.get("offset:norm"), Long.MAX_VALUE - 31); // offset + size overflows
        fails(b, "lies outside the file");
        b = w.build();
        putU64(b, w.at.get("ne0:token_embd.weight"), 1L << 40);
        fails(b, "lies outside the file");
    }

    @Test
    void rejectsOverlappingTensors() {
        GgufTestWriter w = model();
        byte[] b = w.build();
        putU64(b, w.at.get("offset:blk.0.w"), 96); // token_embd is [0, 128)
        GgufException e = fails(b, "overlaps tensor 'token_embd.weight'");
        assertEquals(w.at.get("tensor:blk.0.w"), (int) e.offset());
    }

    @Test
    void rejectsMisalignedOffsets() {
        GgufTestWriter w = model();
        byte[] b = w.build();
        int at = w.at.get("offset:norm");
        putU64(b, at, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at) + 4);
        assertEquals(at, fails(b, "not a multiple of the alignment 32").offset());
    }

    @Test
    void rejectsStringsThatAreNotUtf8() {
        GgufTestWriter w = new GgufTestWriter().str("général", "ok").str("k", "vé").tensor("té", GgmlType.F32, 4);
        byte[][] variants = {
            {(byte) 0xFF}, // never valid
            {(byte) 0xC0}, // overlong lead
            {(byte) 0xED}, // with a following A9: a surrogate? (0xED 0xA9 is)
        };
        for (String field : List.of("key:général", "value:k", "tensor:té")) {
            for (byte[] v : variants) {
                byte[] b = w.build();
                int s = w.at.get(field) + 8; // string bytes start after the u64 length
                int i = indexOf(b, s, (byte) 0xC3);
                b[i] = v[0];
                GgufException e = fails(b, "not valid UTF-8");
                assertEquals(i, e.offset(), e.getMessage());
            }
        }
        // A multi-byte sequence cut off by the end of the string.
        GgufTestWriter w2 = new GgufTestWriter().str("k", "aé").str("k2", "");
        byte[] b = w2.build();
        putU64(b, w2.at.get("value:k"), 2);
        putU64(b, w2.at.get("value:k") + 2 + 8, 1); // the next key swallows the orphaned A9
        b[w2.at.get("value:k") + 8 + 2] = 'z';
        assertEquals(w2.at.get("value:k") + 9, (int) fails(b, "not valid UTF-8").offset());
        // A lead byte followed by something that is not a continuation byte.
        b = w2.build();
        b[w2.at.get("value:k") + 8 + 2] = 'x';
        fails(b, "not valid UTF-8");
    }

    private static int indexOf(byte[] b, int from, byte v) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        throw new AssertionError("byte not found");
    }

    @Test
    void rejectsDuplicates() {
        fails(model().u32("testarch.block_count", 3).build(), "duplicate metadata key 'testarch.block_count'");
        fails(model().tensor("norm", GgmlType.F32, 8).build(), "duplicate tensor name 'norm'");
    }

    @Test
    void rejectsUnknownValueTypes() {
        GgufTestWriter w = model();
        byte[] b = w.build();
        putU32(b, w.at.get("type:testarch.block_count"), 13);
        fails(b, "metadata key 'testarch.block_count' has unknown value type 13");
        w = model().kv("arr", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.INT32, new int[] {1}));
        b = w.build();
        putU32(b, w.at.get("array_count:arr") - 4, 99);
        fails(b, "unknown element type 99");
        GgufTestWriter wb = new GgufTestWriter().kv("b", GgufValueType.BOOL, true);
        byte[] bb = wb.build();
        bb[wb.at.get("value:b")] = 2;
        fails(bb, "boolean 'b' holds 2");
    }

    @Test
    void rejectsDeepNesting() {
        GgufArray a = GgufTestWriter.array(GgufValueType.INT8, new byte[0]);
        for (int i = 0; i < GgufParser.MAX_ARRAY_DEPTH; i++) {
            a = GgufTestWriter.array(GgufValueType.ARRAY, new GgufArray[] {a});
        }
        fails(new GgufTestWriter().kv("deep", GgufValueType.ARRAY, a).build(), "nested more than");
    }

    @Test
    void rejectsBadShapes() {
        GgufTestWriter w = model();
        byte[] b = w.build();
        putU32(b, w.at.get("n_dims:norm"), 5);
        fails(b, "tensor 'norm' has 5 dimensions");
        b = w.build();
        putU32(b, w.at.get("n_dims:norm"), 0);
        fails(b, "has 0 dimensions");
        fails(new GgufTestWriter().tensor("big", GgmlType.F32, 1L << 32, 1L << 32).build(), "more elements than a 64-bit count holds");
        fails(new GgufTestWriter().tensor("neg", GgmlType.F32, -5).build(), "is absurd");
        fails(new GgufTestWriter().tensor("q", GgmlType.Q4_K, 100, 2).build(), "rows of 100 elements are not a whole number of Q4_K blocks of 256");
        fails(new GgufTestWriter().tensor("huge", GgmlType.F32, 1L << 62).build(), "larger than 2^63 bytes");
    }

    @Test
    void unknownTypeIdIsAnErrorNamingTensorAndId() {
        GgufException e = fails(new GgufTestWriter().tensor("w", 77, -1, 32).build(), "tensor 'w' has type id 77, which ggml does not define");
        assertTrue(e.getMessage().contains("test.gguf"));
    }

    @Test
    void unsupportedTypesOpenButCannotBeComputedWith() throws Exception {
        GgufFile f = parse(new GgufTestWriter().tensor("w", GgmlType.IQ2_XS, 256, 2).tensor("n", GgmlType.F32, 4).build());
        TensorInfo w = f.requireTensor("w");
        assertEquals(GgmlType.IQ2_XS, w.type());
        assertEquals(2 * 74, w.byteSize());
        GgufException e = assertThrows(GgufException.class, () -> f.requireSupported(w));
        assertTrue(e.getMessage().contains("tensor 'w' has weight type IQ2_XS"), e.getMessage());
        assertEquals(f.requireTensor("n"), f.requireSupported(f.requireTensor("n")));
    }

    @Test
    void missingTensorNamesFileAndTensor() throws Exception {
        GgufFile f = parse(model().build());
        GgufException e = assertThrows(GgufException.class, () -> f.requireTensor("output.weight"));
        assertEquals(-1, e.offset());
        assertTrue(e.getMessage().startsWith("test.gguf: the model has no tensor 'output.weight'"), e.getMessage());
    }

    @Test
    void vocabularyOnlyFileHasNoTensors() throws Exception {
        GgufFile f = parse(new GgufTestWriter().str("general.architecture", "llama")
                .kv("tokenizer.ggml.tokens", GgufValueType.ARRAY, GgufTestWriter.array(GgufValueType.STRING, new String[] {"<s>", "a"})).build());
        assertTrue(f.tensors().isEmpty());
        assertArrayEquals(new String[] {"<s>", "a"}, f.metadata().getStringArray("tokenizer.ggml.tokens"));
    }
}
