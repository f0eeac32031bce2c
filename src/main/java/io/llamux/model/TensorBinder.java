package io.llamux.model;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Looks a model's tensors up by name, checks their shapes and types, and remembers which were
 * asked for, so that a tensor no one binds can be refused ({@link #requireAllUsed}).
 */
final class TensorBinder {
    private final GgufFile file;
    private final LinearFactory linears;
    private final Set<String> used = new HashSet<>();

    TensorBinder(GgufFile file, LinearFactory linears) {
        this.file = file;
        this.linears = linears;
    }

    /** Counts {@code name} as used though it is read elsewhere (rope frequency factors). */
    void markUsed(String name) {
        used.add(name);
    }

    boolean has(String name) {
        return file.tensor(name).isPresent();
    }

    private TensorInfo require(String name) {
        used.add(name);
        return file.tensor(name).orElseThrow(() -> new IllegalArgumentException("missing tensor " + name));
    }

    /** A tensor the architecture has no use for means a model this code would run wrong: refuse it. */
    void requireAllUsed(ModelConfig c) {
        for (TensorInfo t : file.tensors()) {
            if (!used.contains(t.name())) {
                throw new IllegalArgumentException("tensor " + t.name() + " is not used by architecture "
                        + c.architecture() + " as Llamux implements it; the model would run wrong without it");
            }
        }
    }

    /** A matrix of {@code rows} rows of length {@code cols}: ggml shape {@code [cols, rows]}. */
    Linear matrix(String name, int cols, int rows) {
        TensorInfo t = require(name);
        checkShape(t, new long[]{cols, rows});
        if (!t.type().supported) {
            throw new IllegalArgumentException("tensor " + name + " has type " + t.type()
                    + ", which Llamux cannot compute with");
        }
        return linears.create(t, file.data(t));
    }

    float[] vector(String name, int n) {
        TensorInfo t = require(name);
        checkShape(t, new long[]{n});
        if (t.type() != GgmlType.F32) {
            throw new IllegalArgumentException("tensor " + name + " must be F32, found " + t.type());
        }
        MemorySegment seg = file.data(t);
        float[] v = new float[n];
        MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, v, 0, n);
        return v;
    }

    /** {@link #vector}, or null when the file does not have the tensor. */
    float[] optionalVector(String name, int n) {
        used.add(name);
        Optional<TensorInfo> t = file.tensor(name);
        return t.isPresent() ? vector(name, n) : null;
    }

    private static void checkShape(TensorInfo t, long[] expected) {
        long[] found = t.ne();
        // ggml drops trailing dimensions of 1, and some writers keep them: compare padded.
        long[] a = Arrays.copyOf(expected, 4);
        long[] f = Arrays.copyOf(found, 4);
        for (int i = expected.length; i < 4; i++) {
            a[i] = 1;
        }
        for (int i = found.length; i < 4; i++) {
            f[i] = 1;
        }
        if (!Arrays.equals(a, f)) {
            throw new IllegalArgumentException("tensor " + t.name() + ": expected shape "
                    + Arrays.toString(expected) + " (ggml order, ne[0] = row length), found "
                    + Arrays.toString(found));
        }
    }
}
