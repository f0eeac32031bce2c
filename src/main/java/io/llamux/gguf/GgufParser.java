package io.llamux.gguf;

import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the GGUF header, metadata and tensor infos from a segment, checking everything
 * before trusting it. Layout (little-endian):
 *
 * <pre>
 *   u32 magic "GGUF", u32 version (2, 3), u64 tensor count, u64 metadata count
 *   metadata: { string key, u32 value type, value }...
 *   tensor infos: { string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset }...
 *   padding to general.alignment (default 32), then the tensor data section
 *   string = u64 byte length + UTF-8 bytes; array = u32 element type + u64 count + elements
 * </pre>
 *
 * Every count is checked against the bytes that remain before anything is allocated for it,
 * so a corrupt count fails at once instead of allocating gigabytes or looping for hours.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int MAX_DIMS = 4; // GGML_MAX_DIMS
    static final long DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** Nested arrays deeper than this are rejected; real files nest at most one level. */
    static final int MAX_ARRAY_DEPTH = 8;
    /** Larger than any sane data alignment, small enough that aligning cannot overflow. */
    static final long MAX_ALIGNMENT = 1L << 30;
    /**
     * Most tensors, metadata entries or array elements accepted. Checking counts against the
     * bytes left is not enough for a multi-gigabyte file, whose data section could "hold" a
     * corrupt count of a billion; real files stay far below this (vocabularies reach ~256k).
     */
    static final long MAX_COUNT = 1L << 24;
    /** Longest string accepted (chat templates and embedded tokenizer JSON stay well below). */
    static final long MAX_STRING = 1L << 26;
    /** Fewest bytes a metadata entry takes: empty key (u64 length), u32 type, a 1-byte value. */
    private static final int MIN_KV_BYTES = 8 + 4 + 1;
    /** Fewest bytes a tensor info takes: empty name, n_dims, one dimension, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String source;
    private final MemorySegment seg;
    private final long size;
    private long pos;
    private byte[] scratch = new byte[256];

    /** The parsed pieces, handed to GgufFile. */
    record Parsed(int version, GgufMetadata metadata, List<TensorInfo> tensors, long alignment, long dataStart) {
    }

    GgufParser(String source, MemorySegment seg) {
        this.source = source;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    Parsed parse() throws GgufException {
        int version = readHeader();
        long tensorCount = readCount("tensor count", MIN_TENSOR_INFO_BYTES, 8);
        long kvCount = readCount("metadata count", MIN_KV_BYTES, 0);
        if (tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES > remaining()) {
            throw error(pos - 16, tensorCount + " tensors and " + kvCount + " metadata entries cannot fit in the " + remaining() + " bytes left");
        }
        LinkedHashMap<String, Object> values = new LinkedHashMap<>();
        LinkedHashMap<String, GgufValueType> types = new LinkedHashMap<>();
        long alignment = DEFAULT_ALIGNMENT;
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = readString("metadata key");
            if (key.isEmpty()) {
                throw error(keyAt, "empty metadata key");
            }
            if (values.containsKey(key)) {
                throw error(keyAt, "duplicate metadata key '" + key + "'");
            }
            long typeAt = pos;
            long typeId = u32("value type of '" + key + "'");
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) {
                throw error(typeAt, "metadata key '" + key + "' has unknown value type " + typeId);
            }
            long valueAt = pos;
            Object value = readValue(type, key, 0);
            if (key.equals(ALIGNMENT_KEY)) {
                alignment = checkAlignment(type, value, valueAt);
            }
            values.put(key, value);
            types.put(key, type);
        }
        GgufMetadata metadata = new GgufMetadata(source, values, types);
        // Grown as infos are read, not sized by the count: in a multi-gigabyte file a corrupt count
        // can pass the bytes-left check, and should fail before it has cost any memory.
        List<TensorInfo> tensors = new ArrayList<>();
        long[] infoAt = new long[16];
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < tensorCount; i++) {
            if (i == infoAt.length) {
                infoAt = Arrays.copyOf(infoAt, i * 2);
            }
            infoAt[i] = pos;
            TensorInfo t = readTensorInfo(alignment);
            if (byName.putIfAbsent(t.name(), i) != null) {
                throw error(infoAt[i], "duplicate tensor name '" + t.name() + "'");
            }
            tensors.add(t);
        }
        long dataStart = (pos + alignment - 1) & -alignment;
        checkDataPlacement(tensors, infoAt, dataStart);
        return new Parsed(version, metadata, List.copyOf(tensors), alignment, dataStart);
    }

    private int readHeader() throws GgufException {
        if (size < 4) {
            throw error(0, "file is " + size + " bytes long, too short to be a GGUF file");
        }
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw error(0, "not a GGUF file: it starts with " + hex(0, 4) + ", not \"GGUF\" (47 47 55 46)");
        }
        pos = 4;
        long version = u32("version");
        if (version == 2 || version == 3) {
            return (int) version;
        }
        long swapped = Integer.toUnsignedLong(Integer.reverseBytes((int) version));
        if (swapped >= 1 && swapped <= 3) {
            throw error(4, "big-endian GGUF file (version " + swapped + " byte-swapped); Llamux reads little-endian files only");
        }
        if (version == 1) {
            throw error(4, "GGUF version 1 is not supported (Llamux reads versions 2 and 3; convert with a newer llama.cpp)");
        }
        throw error(4, "unsupported GGUF version " + version + " (Llamux reads versions 2 and 3)");
    }

    /** A u64 count, rejected when {@code minBytes} per item cannot fit in what is left after {@code reserve} more bytes. */
    private long readCount(String what, int minBytes, long reserve) throws GgufException {
        long at = pos;
        long n = u64(what);
        long room = Math.max(0, remaining() - reserve);
        if (n < 0 || n > room / minBytes) {
            throw error(at, what + " " + Long.toUnsignedString(n) + " is impossible: the " + room + " bytes left hold at most " + room / minBytes);
        }
        if (n > MAX_COUNT) {
            throw error(at, what + " " + n + " is more than Llamux accepts (" + MAX_COUNT + ")");
        }
        return n;
    }

    private Object readValue(GgufValueType type, String key, int depth) throws GgufException {
        return switch (type) {
            case UINT8 -> (long) (u8(key) & 0xFF);
            case INT8 -> (long) u8(key);
            case UINT16 -> (long) (i16(key) & 0xFFFF);
            case INT16 -> (long) i16(key);
            case UINT32 -> u32(key);
            case INT32 -> (long) (int) u32(key);
            case UINT64, INT64 -> u64(key);
            case FLOAT32 -> {
                need(4, key);
                float v = seg.get(F32, pos);
                pos += 4;
                yield v;
            }
            case FLOAT64 -> {
                need(8, key);
                double v = seg.get(F64, pos);
                pos += 8;
                yield v;
            }
            case BOOL -> readBool(key);
            case STRING -> readString("value of '" + key + "'");
            case ARRAY -> readArray(key, depth);
        };
    }

    private boolean readBool(String key) throws GgufException {
        byte b = u8(key);
        if (b != 0 && b != 1) {
            throw error(pos - 1, "boolean '" + key + "' holds " + (b & 0xFF) + ", not 0 or 1");
        }
        return b == 1;
    }

    private GgufArray readArray(String key, int depth) throws GgufException {
        long headAt = pos;
        if (depth >= MAX_ARRAY_DEPTH) {
            throw error(headAt, "'" + key + "': arrays nested more than " + MAX_ARRAY_DEPTH + " deep");
        }
        long typeId = u32("array element type of '" + key + "'");
        GgufValueType et = GgufValueType.byId(typeId);
        if (et == null) {
            throw error(headAt, "array '" + key + "' has unknown element type " + typeId);
        }
        long countAt = pos;
        long n = u64("array length of '" + key + "'");
        long room = remaining();
        if (n < 0 || n > room / et.minBytes) {
            throw error(countAt, "array '" + key + "' claims " + Long.toUnsignedString(n) + " " + et
                    + " elements, more than the " + room + " bytes left can hold");
        }
        if (n > MAX_COUNT) {
            throw error(countAt, "array '" + key + "' has " + n + " elements, more than Llamux accepts (" + MAX_COUNT + ")");
        }
        int count = (int) n;
        Object values = switch (et) {
            case UINT8, INT8 -> bulk(ValueLayout.JAVA_BYTE, new byte[count], count, 1);
            case UINT16, INT16 -> bulk(U16, new short[count], count, 2);
            case UINT32, INT32 -> bulk(U32, new int[count], count, 4);
            case UINT64, INT64 -> bulk(U64, new long[count], count, 8);
            case FLOAT32 -> bulk(F32, new float[count], count, 4);
            case FLOAT64 -> bulk(F64, new double[count], count, 8);
            case BOOL -> {
                byte[] b = new byte[count];
                for (int i = 0; i < count; i++) {
                    b[i] = (byte) (readBool(key) ? 1 : 0);
                }
                yield b;
            }
            case STRING -> readStrings(key, count);
            case ARRAY -> {
                GgufArray[] a = new GgufArray[count];
                for (int i = 0; i < count; i++) {
                    a[i] = readArray(key, depth + 1);
                }
                yield a;
            }
        };
        return new GgufArray(et, values, count);
    }

    /** Copies {@code count} fixed-size little-endian elements into {@code dst} (the count was already checked against the bytes left). */
    private Object bulk(ValueLayout layout, Object dst, int count, int width) {
        MemorySegment.copy(seg, layout, pos, dst, 0, count);
        pos += (long) count * width;
        return dst;
    }

    private long checkAlignment(GgufValueType type, Object value, long at) throws GgufException {
        if (!type.isInteger()) {
            throw error(at, ALIGNMENT_KEY + " is a " + type + ", not an integer");
        }
        long a = (Long) value;
        if (a <= 0 || Long.bitCount(a) != 1 || a > MAX_ALIGNMENT) {
            throw error(at, ALIGNMENT_KEY + " = " + Long.toUnsignedString(a) + " is not a power of two between 1 and " + MAX_ALIGNMENT);
        }
        return a;
    }

    private TensorInfo readTensorInfo(long alignment) throws GgufException {
        long nameAt = pos;
        String name = readString("tensor name");
        if (name.isEmpty()) {
            throw error(nameAt, "empty tensor name");
        }
        long dimsAt = pos;
        long nDims = u32("dimension count of tensor '" + name + "'");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw error(dimsAt, "tensor '" + name + "' has " + nDims + " dimensions; ggml allows 1 to " + MAX_DIMS);
        }
        long[] ne = new long[(int) nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long at = pos;
            ne[d] = u64("shape of tensor '" + name + "'");
            if (ne[d] < 0) {
                throw error(at, "tensor '" + name + "' dimension " + d + " = " + Long.toUnsignedString(ne[d]) + " is absurd");
            }
            try {
                elements = Math.multiplyExact(elements, ne[d]);
            } catch (ArithmeticException e) {
                throw error(at, "tensor '" + name + "' shape " + shape(ne, d + 1) + " has more elements than a 64-bit count holds");
            }
        }
        long typeAt = pos;
        long typeId = u32("type of tensor '" + name + "'");
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw error(typeAt, "tensor '" + name + "' has type id " + typeId + ", which ggml does not define");
        }
        if (ne[0] % type.blockSize != 0) {
            throw error(dimsAt + 4, "tensor '" + name + "' rows of " + ne[0] + " elements are not a whole number of "
                    + type + " blocks of " + type.blockSize);
        }
        long byteSize;
        try {
            byteSize = Math.multiplyExact(elements / type.blockSize, (long) type.typeSize);
        } catch (ArithmeticException e) {
            throw error(dimsAt + 4, "tensor '" + name + "' " + type + " " + shape(ne, ne.length) + " is larger than 2^63 bytes");
        }
        long offsetAt = pos;
        long offset = u64("data offset of tensor '" + name + "'");
        if (offset < 0) {
            throw error(offsetAt, "tensor '" + name + "' data offset " + Long.toUnsignedString(offset) + " is absurd");
        }
        if ((offset & (alignment - 1)) != 0) {
            throw error(offsetAt, "tensor '" + name + "' data offset " + offset + " is not a multiple of the alignment " + alignment);
        }
        return new TensorInfo(name, ne, type, offset, byteSize);
    }

    /** Every tensor's bytes lie inside the file, and no two tensors share a byte. */
    private void checkDataPlacement(List<TensorInfo> tensors, long[] infoAt, long dataStart) throws GgufException {
        long dataBytes = size - dataStart; // negative when the header runs to the very end
        for (int i = 0; i < tensors.size(); i++) {
            TensorInfo t = tensors.get(i);
            if (t.offset() > dataBytes || t.byteSize() > dataBytes - t.offset()) {
                throw error(infoAt[i], "tensor '" + t.name() + "' data [" + (dataStart + t.offset()) + ", "
                        + sat(dataStart + t.offset(), t.byteSize()) + ") lies outside the file, which is " + size + " bytes long");
            }
        }
        Integer[] order = new Integer[tensors.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(tensors.get(a).offset(), tensors.get(b).offset()));
        int prev = -1;
        for (int i : order) {
            TensorInfo t = tensors.get(i);
            if (t.byteSize() == 0) {
                continue;
            }
            if (prev >= 0) {
                TensorInfo p = tensors.get(prev);
                if (t.offset() < p.offset() + p.byteSize()) {
                    throw error(infoAt[i], "tensor '" + t.name() + "' data at offset " + t.offset() + " overlaps tensor '" + p.name()
                            + "' at [" + p.offset() + ", " + (p.offset() + p.byteSize()) + ")");
                }
            }
            prev = i;
        }
    }

    private String readString(String what) throws GgufException {
        return readString(what, null, -1);
    }

    /**
     * A u64-length-prefixed UTF-8 string. The description of what is being read is only put
     * together on error ({@code what}, or element {@code index} of array {@code key}): building
     * it for each of 100,000 vocabulary strings would cost more than reading them.
     */
    private String readString(String what, String key, int index) throws GgufException {
        int n = stringLength(what, key, index);
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, scratch.length * 2)];
        }
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, scratch, 0, n);
        int bad = Utf8.firstInvalid(scratch, 0, n);
        if (bad >= 0) {
            throw error(pos + bad, describe(what, key, index) + " is not valid UTF-8 (byte " + String.format("%02x", scratch[bad] & 0xFF) + ")");
        }
        pos += n;
        return new String(scratch, 0, n, StandardCharsets.UTF_8);
    }

    /** A STRING array's elements, checked like {@link #readString} but kept as UTF-8 bytes (see {@link Utf8Strings}). */
    private Utf8Strings readStrings(String key, int count) throws GgufException {
        int[] ends = new int[count];
        byte[] bytes = new byte[(int) Math.min(remaining(), Math.min(8L * count + 16, 1 << 20))]; // grown as strings are read
        int used = 0;
        for (int i = 0; i < count; i++) {
            int n = stringLength(null, key, i);
            if (bytes.length - used < n) {
                long grown = Math.max((long) used + n, Math.min(2L * bytes.length, Integer.MAX_VALUE - 8));
                if (grown > Integer.MAX_VALUE - 8) {
                    throw error(pos - 8, "the strings of '" + key + "' add up to more than Llamux can hold");
                }
                bytes = Arrays.copyOf(bytes, (int) grown);
            }
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, used, n);
            int bad = Utf8.firstInvalid(bytes, used, used + n);
            if (bad >= 0) {
                throw error(pos + bad - used, describe(null, key, i) + " is not valid UTF-8 (byte " + String.format("%02x", bytes[bad] & 0xFF) + ")");
            }
            pos += n;
            used += n;
            ends[i] = used;
        }
        return new Utf8Strings(bytes, ends);
    }

    /** Reads a string's u64 length, checked against the bytes left and {@link #MAX_STRING}. */
    private int stringLength(String what, String key, int index) throws GgufException {
        long at = pos;
        if (remaining() < 8) {
            throw error(pos, "file ends inside the length of " + describe(what, key, index) + " (needs 8 bytes, " + remaining() + " left)");
        }
        long len = seg.get(U64, pos);
        pos += 8;
        if (len < 0 || len > remaining()) {
            throw error(at, describe(what, key, index) + " claims " + Long.toUnsignedString(len) + " bytes, but only " + remaining() + " are left");
        }
        if (len > MAX_STRING) {
            throw error(at, describe(what, key, index) + " is " + len + " bytes long, more than Llamux accepts (" + MAX_STRING + ")");
        }
        return (int) len;
    }

    private static String describe(String what, String key, int index) {
        return key == null ? what : "element " + index + " of '" + key + "'";
    }

    private byte u8(String what) throws GgufException {
        need(1, what);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short i16(String what) throws GgufException {
        need(2, what);
        short v = seg.get(U16, pos);
        pos += 2;
        return v;
    }

    private long u32(String what) throws GgufException {
        need(4, what);
        long v = Integer.toUnsignedLong(seg.get(U32, pos));
        pos += 4;
        return v;
    }

    private long u64(String what) throws GgufException {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private void need(int n, String what) throws GgufException {
        if (remaining() < n) {
            throw error(pos, "file ends inside " + what + " (needs " + n + " bytes, " + remaining() + " left)");
        }
    }

    private long remaining() {
        return size - pos;
    }

    private GgufException error(long at, String what) {
        return new GgufException(source, at, what);
    }

    private String hex(long at, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i > 0 ? " " : "").append(String.format("%02x", seg.get(ValueLayout.JAVA_BYTE, at + i) & 0xFF));
        }
        return sb.toString();
    }

    private static String shape(long[] ne, int n) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            sb.append(i > 0 ? ", " : "").append(ne[i]);
        }
        return sb.append(']').toString();
    }

    private static long sat(long a, long b) {
        long r = a + b;
        return r < a ? Long.MAX_VALUE : r;
    }
}
