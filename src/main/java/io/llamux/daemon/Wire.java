package io.llamux.daemon;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * The /dev/llamux wire format, mirrored from {@code kmod/llamux_uapi.h} (the single source of
 * truth; WireHeaderTest compiles the header with gcc and compares every constant, struct
 * size, field offset and field width with the layouts below). Fields are little-endian and,
 * like the C structs, naturally aligned, so the layouts need no padding members.
 */
public final class Wire {
    public static final int MAGIC = 0x584d4c4c;
    public static final int PROTO_VERSION = 1;
    public static final int MAX_PAYLOAD = 1 << 20;
    /** The module refuses longer STATUS text (EINVAL): llamux.c's LLAMUX_MAX_STATUS. */
    public static final int STATUS_LIMIT = 4096;
    /** The module cuts ERROR messages to this many bytes (llamux.c's LLAMUX_MAX_ERROR). */
    public static final int ERROR_LIMIT = 512;

    public static final int MSG_REQUEST = 1;
    public static final int MSG_CANCEL = 2;
    public static final int MSG_HELLO = 16;
    public static final int MSG_TOKEN = 17;
    public static final int MSG_DONE = 18;
    public static final int MSG_ERROR = 19;
    public static final int MSG_STATUS = 20;

    public static final int STOP_EOS = 0;
    public static final int STOP_LENGTH = 1;
    public static final int STOP_CONTEXT = 2;
    public static final int STOP_CANCEL = 3;

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** struct llamux_req_hdr: kernel to daemon. */
    public static final StructLayout REQ_HDR = MemoryLayout.structLayout(
            LE32.withName("magic"), LE16.withName("version"), LE16.withName("type"),
            LE32.withName("length"), LE32.withName("settings_len"), LE64.withName("id"),
            LE32.withName("uid"), LE32.withName("gid"), LE32.withName("pid"), LE32.withName("flags"))
            .withName("llamux_req_hdr");

    /** struct llamux_reply_hdr: daemon to kernel. */
    public static final StructLayout REPLY_HDR = MemoryLayout.structLayout(
            LE32.withName("magic"), LE16.withName("version"), LE16.withName("type"),
            LE32.withName("length"), LE32.withName("flags"), LE64.withName("id"))
            .withName("llamux_reply_hdr");

    /** struct llamux_hello: the HELLO payload. */
    public static final StructLayout HELLO = MemoryLayout.structLayout(
            LE32.withName("version"), LE32.withName("flags")).withName("llamux_hello");

    /** struct llamux_done: the DONE payload; speed is an integer because the kernel does no floating point. */
    public static final StructLayout DONE = MemoryLayout.structLayout(
            LE32.withName("prompt_tokens"), LE32.withName("generated_tokens"),
            LE32.withName("stop_reason"), LE32.withName("millitokens_per_sec")).withName("llamux_done");

    public static final int REQ_HDR_SIZE = (int) REQ_HDR.byteSize();
    public static final int REPLY_HDR_SIZE = (int) REPLY_HDR.byteSize();
    /** A read buffer that holds the largest message the kernel may send. */
    public static final int MAX_REQUEST_MESSAGE = REQ_HDR_SIZE + MAX_PAYLOAD;

    private Wire() {
    }

    static long offset(StructLayout layout, String field) {
        return layout.byteOffset(groupElement(field));
    }

    /** A malformed message from the kernel (which would be a module bug: log it, never crash). */
    public static final class WireException extends Exception {
        public WireException(String message) {
            super(message);
        }
    }

    /**
     * Decodes one kernel to daemon message of {@code size} bytes at the start of {@code buf}.
     * Checks everything the daemon relies on, so that a bad message is rejected, not misread.
     */
    public static KernelMessage decode(MemorySegment buf, long size) throws WireException {
        if (size < REQ_HDR_SIZE) throw new WireException("short message: " + size + " bytes");
        int magic = buf.get(LE32, offset(REQ_HDR, "magic"));
        if (magic != MAGIC) throw new WireException(String.format("bad magic 0x%08x", magic));
        int version = Short.toUnsignedInt(buf.get(LE16, offset(REQ_HDR, "version")));
        if (version != PROTO_VERSION) throw new WireException("protocol version " + version);
        int type = Short.toUnsignedInt(buf.get(LE16, offset(REQ_HDR, "type")));
        long length = Integer.toUnsignedLong(buf.get(LE32, offset(REQ_HDR, "length")));
        if (length != size - REQ_HDR_SIZE) {
            throw new WireException("length " + length + " but " + (size - REQ_HDR_SIZE) + " payload bytes");
        }
        long settingsLen = Integer.toUnsignedLong(buf.get(LE32, offset(REQ_HDR, "settings_len")));
        if (settingsLen > length) throw new WireException("settings_len " + settingsLen + " > length " + length);
        long id = buf.get(LE64, offset(REQ_HDR, "id"));
        if (id == 0) throw new WireException("request id 0");
        int uid = buf.get(LE32, offset(REQ_HDR, "uid"));
        int gid = buf.get(LE32, offset(REQ_HDR, "gid"));
        int pid = buf.get(LE32, offset(REQ_HDR, "pid"));
        return switch (type) {
            case MSG_REQUEST -> {
                byte[] settings = buf.asSlice(REQ_HDR_SIZE, settingsLen).toArray(ValueLayout.JAVA_BYTE);
                byte[] prompt = buf.asSlice(REQ_HDR_SIZE + settingsLen, length - settingsLen).toArray(ValueLayout.JAVA_BYTE);
                yield new KernelMessage.Request(id, uid, gid, pid,
                        new String(settings, StandardCharsets.UTF_8), new String(prompt, StandardCharsets.UTF_8),
                        prompt.length);
            }
            case MSG_CANCEL -> new KernelMessage.Cancel(id, uid);
            default -> throw new WireException("unknown message type " + type + " for request " + id);
        };
    }

    /** Encodes one daemon to kernel message: header, then payload. */
    public static MemorySegment reply(int type, long id, byte[] payload) {
        if (payload.length > MAX_PAYLOAD) throw new IllegalArgumentException("payload of " + payload.length + " bytes");
        MemorySegment m = MemorySegment.ofArray(new byte[REPLY_HDR_SIZE + payload.length]);
        m.set(LE32, offset(REPLY_HDR, "magic"), MAGIC);
        m.set(LE16, offset(REPLY_HDR, "version"), (short) PROTO_VERSION);
        m.set(LE16, offset(REPLY_HDR, "type"), (short) type);
        m.set(LE32, offset(REPLY_HDR, "length"), payload.length);
        m.set(LE32, offset(REPLY_HDR, "flags"), 0);
        m.set(LE64, offset(REPLY_HDR, "id"), id);
        MemorySegment.copy(payload, 0, m, ValueLayout.JAVA_BYTE, REPLY_HDR_SIZE, payload.length);
        return m;
    }

    public static MemorySegment hello() {
        MemorySegment p = MemorySegment.ofArray(new byte[(int) HELLO.byteSize()]);
        p.set(LE32, offset(HELLO, "version"), PROTO_VERSION);
        p.set(LE32, offset(HELLO, "flags"), 0);
        return reply(MSG_HELLO, 0, p.toArray(ValueLayout.JAVA_BYTE));
    }

    public static MemorySegment token(long id, String text) {
        return reply(MSG_TOKEN, id, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * An empty TOKEN: tells the kernel work on the request has begun. Should the daemon die, the
     * kernel ends a started request with an error but hands unstarted ones to the next daemon.
     */
    public static MemorySegment started(long id) {
        return reply(MSG_TOKEN, id, new byte[0]);
    }

    public static MemorySegment error(long id, String message) {
        return reply(MSG_ERROR, id, clip(message, ERROR_LIMIT));
    }

    public static MemorySegment status(String text) {
        return reply(MSG_STATUS, 0, clip(text, STATUS_LIMIT));
    }

    /** DONE with counters; the speed is tokens per second times 1000, clamped to the u32 range. */
    public static MemorySegment done(long id, int promptTokens, int generatedTokens, int stopReason, double tokensPerSecond) {
        MemorySegment p = MemorySegment.ofArray(new byte[(int) DONE.byteSize()]);
        p.set(LE32, offset(DONE, "prompt_tokens"), promptTokens);
        p.set(LE32, offset(DONE, "generated_tokens"), generatedTokens);
        p.set(LE32, offset(DONE, "stop_reason"), stopReason);
        double milli = Double.isFinite(tokensPerSecond) ? Math.max(0, tokensPerSecond * 1000) : 0;
        p.set(LE32, offset(DONE, "millitokens_per_sec"), (int) Math.min(milli, 0xFFFF_FFFFL));
        return reply(MSG_DONE, id, p.toArray(ValueLayout.JAVA_BYTE));
    }

    /** Text payloads cut to {@code limit} bytes at a character boundary, never mid UTF-8 sequence. */
    static byte[] clip(String text, int limit) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length <= limit) return b;
        int end = limit;
        while (end > 0 && (b[end] & 0xC0) == 0x80) end--;
        return java.util.Arrays.copyOf(b, end);
    }

    /** Reads fields of a reply (used by tests and by the fake kernel in them). */
    public static int replyType(MemorySegment m) {
        return Short.toUnsignedInt(m.get(LE16, offset(REPLY_HDR, "type")));
    }

    public static long replyId(MemorySegment m) {
        return m.get(LE64, offset(REPLY_HDR, "id"));
    }

    public static int replyLength(MemorySegment m) {
        return m.get(LE32, offset(REPLY_HDR, "length"));
    }

    public static int replyMagic(MemorySegment m) {
        return m.get(LE32, offset(REPLY_HDR, "magic"));
    }

    public static int replyVersion(MemorySegment m) {
        return Short.toUnsignedInt(m.get(LE16, offset(REPLY_HDR, "version")));
    }

    public static byte[] replyPayload(MemorySegment m) {
        return m.asSlice(REPLY_HDR_SIZE, replyLength(m)).toArray(ValueLayout.JAVA_BYTE);
    }

    /** Field {@code field} of a DONE payload. */
    public static int doneField(byte[] payload, String field) {
        return MemorySegment.ofArray(payload).get(LE32, offset(DONE, field));
    }

    /** Builds a kernel to daemon message, as the module would (for tests and the fake kernel). */
    public static MemorySegment request(int type, long id, int uid, String settings, String prompt) {
        byte[] s = settings.getBytes(StandardCharsets.UTF_8);
        byte[] p = prompt.getBytes(StandardCharsets.UTF_8);
        MemorySegment m = MemorySegment.ofArray(new byte[REQ_HDR_SIZE + s.length + p.length]);
        m.set(LE32, offset(REQ_HDR, "magic"), MAGIC);
        m.set(LE16, offset(REQ_HDR, "version"), (short) PROTO_VERSION);
        m.set(LE16, offset(REQ_HDR, "type"), (short) type);
        m.set(LE32, offset(REQ_HDR, "length"), s.length + p.length);
        m.set(LE32, offset(REQ_HDR, "settings_len"), s.length);
        m.set(LE64, offset(REQ_HDR, "id"), id);
        m.set(LE32, offset(REQ_HDR, "uid"), uid);
        m.set(LE32, offset(REQ_HDR, "gid"), uid);
        m.set(LE32, offset(REQ_HDR, "pid"), 4242);
        m.set(LE32, offset(REQ_HDR, "flags"), 0);
        MemorySegment.copy(s, 0, m, ValueLayout.JAVA_BYTE, REQ_HDR_SIZE, s.length);
        MemorySegment.copy(p, 0, m, ValueLayout.JAVA_BYTE, REQ_HDR_SIZE + s.length, p.length);
        return m;
    }
}
