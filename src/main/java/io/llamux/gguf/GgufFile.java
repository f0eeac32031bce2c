package io.llamux.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed GGUF model file: metadata, tensor infos and the tensor bytes.
 *
 * <p>{@link #open} maps the file read-only through {@code java.lang.foreign}, so files of any
 * size work and nothing is copied; {@link #parse} reads a segment the caller already holds
 * (the daemon copies the file into huge-page memory first). Either way every count, offset
 * and shape was checked while parsing: a file that opens has all its tensors inside its
 * bytes, aligned and not overlapping.
 *
 * <p>The segments {@link #data} returns stay valid until {@link #close} when {@code open}
 * created the mapping; after that, touching them throws {@link IllegalStateException}.
 */
public final class GgufFile implements AutoCloseable {
    private final String source;
    private final MemorySegment bytes;
    private final Arena arena; // null when the caller owns the segment
    private final GgufParser.Parsed parsed;
    private final Map<String, TensorInfo> byName;

    private GgufFile(String source, MemorySegment bytes, Arena arena, GgufParser.Parsed parsed) {
        this.source = source;
        this.bytes = bytes;
        this.arena = arena;
        this.parsed = parsed;
        this.byName = new HashMap<>();
        for (TensorInfo t : parsed.tensors()) {
            byName.put(t.name(), t);
        }
    }

    /** Maps {@code path} read-only and parses it; the mapping lives until {@link #close}. */
    public static GgufFile open(Path path) throws IOException {
        String source = path.toString();
        if (Files.isDirectory(path)) {
            throw new IOException(source + ": is a directory, not a GGUF file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new GgufException(source, 0, "file is empty, not a GGUF file");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufFile(source, seg, arena, new GgufParser(source, seg).parse());
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Parses GGUF bytes held in any segment (heap, mapped or native). The caller keeps
     * ownership: {@link #close} does not free it, and it must outlive this object.
     *
     * @param sourceName what error messages call the bytes, usually the file path
     */
    public static GgufFile parse(String sourceName, MemorySegment bytes) throws GgufException {
        MemorySegment ro = bytes.asReadOnly();
        return new GgufFile(sourceName, ro, null, new GgufParser(sourceName, ro).parse());
    }

    /**
     * As {@link #parse} for bytes that are the caller's own writable copy (the daemon's huge
     * pages), which nothing reads but one engine loaded from this file: that engine
     * rearranges weights where they lie instead of copying them (so the model is in memory
     * once), and the tensors no longer hold GGUF layouts afterwards.
     */
    public static GgufFile parseOwnCopy(String sourceName, MemorySegment bytes) throws GgufException {
        if (bytes.isReadOnly()) {
            throw new IllegalArgumentException(sourceName + ": a read-only segment is not a writable copy");
        }
        return new GgufFile(sourceName, bytes, null, new GgufParser(sourceName, bytes).parse());
    }

    /** The file path or name, as error messages show it. */
    public String source() {
        return source;
    }

    /** The GGUF version: 2 or 3. */
    public int version() {
        return parsed.version();
    }

    public GgufMetadata metadata() {
        return parsed.metadata();
    }

    /** {@code general.architecture} (e.g. "llama", "qwen2", "gpt2"), or null when the file has none. */
    public String architecture() {
        return parsed.metadata().architecture();
    }

    /** Every tensor, in file order. */
    public List<TensorInfo> tensors() {
        return parsed.tensors();
    }

    /** The number of weights in all tensors (llama.cpp's model_n_params). */
    public long parameterCount() {
        long n = 0;
        for (TensorInfo t : tensors()) {
            n += t.elementCount();
        }
        return n;
    }

    /** The bytes of all tensors (llama.cpp's model_size). */
    public long tensorBytes() {
        long n = 0;
        for (TensorInfo t : tensors()) {
            n += t.byteSize();
        }
        return n;
    }

    public Optional<TensorInfo> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The named tensor, or an error naming the file and the tensor. */
    public TensorInfo requireTensor(String name) throws GgufException {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new GgufException(source, -1, "the model has no tensor '" + name + "' (architecture "
                    + architecture() + ", " + tensors().size() + " tensors)");
        }
        return t;
    }

    /** Returns {@code t}, or an error naming the tensor and its type when Llamux cannot compute with that type. */
    public TensorInfo requireSupported(TensorInfo t) throws GgufException {
        if (!t.type().supported) {
            throw new GgufException(source, dataStart() + t.offset(), "tensor '" + t.name() + "' has weight type " + t.type()
                    + ", which Llamux cannot compute with");
        }
        return t;
    }

    /** A read-only view of the tensor's bytes. */
    public MemorySegment data(TensorInfo t) {
        return bytes.asSlice(parsed.dataStart() + t.offset(), t.byteSize());
    }

    /** The absolute offset of the tensor data section; a tensor starts at {@code dataStart() + offset}. */
    public long dataStart() {
        return parsed.dataStart();
    }

    /** The data alignment: {@code general.alignment}, or 32. */
    public long alignment() {
        return parsed.alignment();
    }

    /** The whole file, read-only. */
    public MemorySegment bytes() {
        return bytes;
    }

    /** Bytes read in per {@link #readIn} step, with a progress report after each. */
    static final long READ_CHUNK = 64L << 20;

    /**
     * Reads a file {@link #open} mapped into memory, from start to end, reporting to
     * {@code progress}: the page faults the first forward pass (or weight repacking) would take
     * one at a time, in the order of the file, with someone told how far it is. A segment the
     * caller holds ({@link #parse}) is in memory already: nothing to do.
     */
    public void readIn(LoadProgress progress) {
        if (arena == null || !bytes.isMapped()) {
            return;
        }
        long size = bytes.byteSize();
        for (long at = 0; at < size; ) {
            long n = Math.min(READ_CHUNK, size - at);
            bytes.asSlice(at, n).load();
            at += n;
            progress.advanced(at, size);
        }
    }

    /** The file size in bytes. */
    public long size() {
        return bytes.byteSize();
    }

    /** Unmaps the file when {@link #open} mapped it; a no-op for {@link #parse}. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return source + " (GGUF v" + version() + ", " + architecture() + ", " + tensors().size() + " tensors)";
    }
}
