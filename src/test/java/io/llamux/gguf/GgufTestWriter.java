package io.llamux.gguf;

import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds small GGUF files in memory for tests, and remembers where each field landed so a
 * test can corrupt exactly one of them. Field names: "version", "tensor_count", "kv_count",
 * "key:K" (the key's length), "type:K", "value:K", "array_count:K", "tensor:N" (the name's
 * length), "n_dims:N", "ne0:N", "ggml_type:N", "offset:N".
 */
public final class GgufTestWriter {
    public record Kv(String key, GgufValueType type, Object value) {
    }

    public record Tensor(String name, long[] ne, int typeId, long offset, byte[] data) {
    }

    private int version = 3;
    private final List<Kv> kvs = new ArrayList<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int maxArrayLength = Integer.MAX_VALUE;
    private boolean headerOnly;

    /** Where each named field was written by the last {@link #build}. */
    public final Map<String, Integer> at = new HashMap<>();
    /** Every integer field (position, width) written by the last build: lengths, counts, types, shapes, offsets. */
    public final List<int[]> intFields = new ArrayList<>();

    public GgufTestWriter version(int v) {
        version = v;
        return this;
    }

    /** Build stops at the start of the data section (for files whose data the test writes itself). */
    public GgufTestWriter headerOnly() {
        headerOnly = true;
        return this;
    }

    /** Arrays are cut to this many elements (to make small copies of big real files). */
    public GgufTestWriter maxArrayLength(int n) {
        maxArrayLength = n;
        return this;
    }

    public GgufTestWriter kv(String key, GgufValueType type, Object value) {
        kvs.add(new Kv(key, type, value));
        return this;
    }

    public GgufTestWriter str(String key, String value) {
        return kv(key, GgufValueType.STRING, value);
    }

    public GgufTestWriter u32(String key, long value) {
        return kv(key, GgufValueType.UINT32, value);
    }

    /** A tensor placed after the previous one (aligned), filled with a byte pattern. */
    public GgufTestWriter tensor(String name, GgmlType type, long... ne) {
        return tensor(name, type.id, -1, ne);
    }

    /** A tensor with the given bytes, placed after the previous one. */
    public GgufTestWriter tensor(String name, GgmlType type, byte[] data, long... ne) {
        tensors.add(new Tensor(name, ne, type.id, -1, data));
        return this;
    }

    /** Little-endian bytes of F32 values, for {@link #tensor(String, GgmlType, byte[], long...)}. */
    public static byte[] f32(float... values) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** A tensor with a raw type id and an explicit offset (-1: place it after the previous one). */
    public GgufTestWriter tensor(String name, int typeId, long offset, long... ne) {
        tensors.add(new Tensor(name, ne, typeId, offset, null));
        return this;
    }

    public static GgufArray array(GgufValueType type, Object javaArray) {
        return new GgufArray(type, javaArray, Array.getLength(javaArray));
    }

    /** Copies of a file's metadata and tensors (arrays cut to {@link #maxArrayLength}), for re-encoding. */
    public static GgufTestWriter copyOf(GgufFile f) {
        GgufTestWriter w = new GgufTestWriter().version(f.version());
        GgufMetadata m = f.metadata();
        for (String k : m.keys()) {
            w.kv(k, m.type(k), m.get(k));
        }
        for (TensorInfo t : f.tensors()) {
            byte[] data = f.data(t).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            w.tensors.add(new Tensor(t.name(), t.ne(), t.type().id, t.offset(), data));
        }
        return w;
    }

    public long alignment() {
        for (Kv kv : kvs) {
            // A bad alignment (a test of the reader) is written, but the layout keeps 32.
            if (kv.key.equals("general.alignment") && kv.value instanceof Long l && l > 0 && Long.bitCount(l) == 1 && l <= 1 << 20) {
                return l;
            }
        }
        return 32;
    }

    public byte[] build() {
        at.clear();
        intFields.clear();
        Buf b = new Buf();
        b.bytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        mark("version", b, 4);
        b.u32(version);
        mark("tensor_count", b, 8);
        b.u64(tensors.size());
        mark("kv_count", b, 8);
        b.u64(kvs.size());
        for (Kv kv : kvs) {
            mark("key:" + kv.key, b, 8);
            b.str(kv.key);
            mark("type:" + kv.key, b, 4);
            b.u32(kv.type.id);
            at.put("value:" + kv.key, b.n);
            value(b, kv.key, kv.type, kv.value);
        }
        long align = alignment();
        long next = 0;
        long[] offsets = new long[tensors.size()];
        long[] sizes = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            GgmlType type = GgmlType.byId(t.typeId);
            long n = Arrays.stream(t.ne).reduce(1, (x, y) -> x * y);
            sizes[i] = t.data != null ? t.data.length : dataSize(type, n);
            offsets[i] = t.offset >= 0 ? t.offset : next;
            next = Math.max(next, (offsets[i] + sizes[i] + align - 1) / align * align);
            mark("tensor:" + t.name, b, 8);
            b.str(t.name);
            mark("n_dims:" + t.name, b, 4);
            b.u32(t.ne.length);
            for (int d = 0; d < t.ne.length; d++) {
                mark(d == 0 ? "ne0:" + t.name : "ne" + d + ":" + t.name, b, 8);
                b.u64(t.ne[d]);
            }
            mark("ggml_type:" + t.name, b, 4);
            b.u32(t.typeId);
            mark("offset:" + t.name, b, 8);
            b.u64(offsets[i]);
        }
        while (b.n % align != 0) {
            b.u8(0);
        }
        int dataStart = b.n;
        at.put("data", dataStart);
        if (headerOnly) {
            return Arrays.copyOf(b.a, b.n);
        }
        long end = 0;
        for (int i = 0; i < tensors.size(); i++) {
            end = Math.max(end, offsets[i] + sizes[i]);
        }
        b.ensure((int) (dataStart + end));
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            for (int k = 0; k < sizes[i]; k++) {
                b.a[(int) (dataStart + offsets[i] + k)] = t.data != null ? t.data[k] : (byte) (k * 31 + i * 7 + 1);
            }
        }
        b.n = (int) (dataStart + end);
        return Arrays.copyOf(b.a, b.n);
    }

    /** The bytes a valid tensor of n elements takes; 0 for the invalid shapes tests write on purpose. */
    private static long dataSize(GgmlType type, long n) {
        if (type == null || n < 0 || n % type.blockSize != 0) {
            return 0;
        }
        try {
            long size = type.bytesFor(n);
            return size > 1 << 28 ? 0 : size;
        } catch (ArithmeticException e) {
            return 0;
        }
    }

    public MemorySegment buildSegment() {
        return MemorySegment.ofArray(build());
    }

    private void mark(String name, Buf b, int width) {
        at.putIfAbsent(name, b.n);
        intFields.add(new int[] {b.n, width});
    }

    private void value(Buf b, String key, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> b.u8((int) (long) (Long) v);
            case UINT16, INT16 -> b.u16((int) (long) (Long) v);
            case UINT32, INT32 -> b.u32((int) (long) (Long) v);
            case UINT64, INT64 -> b.u64((Long) v);
            case FLOAT32 -> b.u32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case FLOAT64 -> b.u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case BOOL -> b.u8((Boolean) v ? 1 : 0);
            case STRING -> {
                intFields.add(new int[] {b.n, 8});
                b.str((String) v);
            }
            case ARRAY -> {
                GgufArray a = (GgufArray) v;
                int n = Math.min(a.size(), maxArrayLength);
                intFields.add(new int[] {b.n, 4});
                b.u32(a.elementType().id);
                at.putIfAbsent("array_count:" + key, b.n);
                intFields.add(new int[] {b.n, 8});
                b.u64(n);
                for (int i = 0; i < n; i++) {
                    Object e = switch (a.elementType()) {
                        case FLOAT32 -> (float) a.getDouble(i);
                        case FLOAT64 -> a.getDouble(i);
                        case BOOL -> a.getBoolean(i);
                        case STRING -> a.getString(i);
                        case ARRAY -> a.getArray(i);
                        default -> a.getLong(i);
                    };
                    value(b, key, a.elementType(), e);
                }
            }
        }
    }

    /** A little-endian byte buffer that grows. */
    static final class Buf {
        byte[] a = new byte[1024];
        int n;

        void ensure(int size) {
            if (a.length < size) {
                a = Arrays.copyOf(a, Math.max(size, a.length * 2));
            }
        }

        void u8(int v) {
            ensure(n + 1);
            a[n++] = (byte) v;
        }

        void u16(int v) {
            u8(v);
            u8(v >> 8);
        }

        void u32(int v) {
            u16(v);
            u16(v >>> 16);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void bytes(byte[] b) {
            ensure(n + b.length);
            System.arraycopy(b, 0, a, n, b.length);
            n += b.length;
        }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }
    }
}
