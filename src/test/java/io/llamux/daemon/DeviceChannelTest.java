package io.llamux.daemon;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device channel's real read/write/poll path against a SOCK_SEQPACKET socket pair,
 * which keeps message boundaries exactly like /dev/llamux (one message per read and write).
 */
class DeviceChannelTest {
    private int kernelFd;
    private DeviceChannel channel;

    @BeforeEach
    void pair() throws Exception {
        int[] fds = Posix.socketpair(Posix.SOCK_SEQPACKET | Posix.SOCK_CLOEXEC);
        kernelFd = fds[0];
        channel = DeviceChannel.fromFd(fds[1], "test-device");
    }

    @AfterEach
    void close() {
        channel.close();
        if (kernelFd >= 0) Posix.close(kernelFd);
    }

    private void kernelSends(MemorySegment message) throws Exception {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(message.byteSize());
            buf.copyFrom(message);
            assertEquals(message.byteSize(), Posix.write(kernelFd, buf, buf.byteSize()));
        }
    }

    private MemorySegment kernelReceives() throws Exception {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Wire.REPLY_HDR_SIZE + Wire.MAX_PAYLOAD);
            assertEquals(Posix.POLLIN, Posix.pollOne(kernelFd, Posix.POLLIN, 2000) & Posix.POLLIN, "reply expected");
            long n = Posix.read(kernelFd, buf, buf.byteSize());
            return MemorySegment.ofArray(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void helloCarriesMagicTypeAndVersion() throws Exception {
        channel.handshake();
        MemorySegment m = kernelReceives();
        assertEquals(Wire.REPLY_HDR_SIZE + 8, m.byteSize());
        assertEquals(Wire.MAGIC, Wire.replyMagic(m));
        assertEquals(Wire.PROTO_VERSION, Wire.replyVersion(m));
        assertEquals(Wire.MSG_HELLO, Wire.replyType(m));
        assertEquals(0, Wire.replyId(m));
        assertEquals(Wire.PROTO_VERSION, MemorySegment.ofArray(Wire.replyPayload(m)).get(ValueLayout.JAVA_INT_UNALIGNED, 0));
        // "LLMX" on the wire, little-endian as the header says.
        assertEquals("LLMX", new String(m.asSlice(0, 4).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
    }

    @Test
    void receiveTimesOutWithNothingQueued() throws Exception {
        long t0 = System.nanoTime();
        assertNull(channel.receive(50));
        assertTrue(System.nanoTime() - t0 >= 40_000_000L, "poll waited for its timeout");
    }

    @Test
    void requestAndCancelAreDecoded() throws Exception {
        kernelSends(Wire.request(Wire.MSG_REQUEST, 7, 1000, "temperature=0\n", "Once upon a time, café ☕"));
        kernelSends(Wire.request(Wire.MSG_CANCEL, 7, 1000, "", ""));
        var r = assertInstanceOf(KernelMessage.Request.class, channel.receive(1000));
        assertEquals(7, r.id());
        assertEquals(1000, r.uid());
        assertEquals(4242, r.pid());
        assertEquals("temperature=0\n", r.settings());
        assertEquals("Once upon a time, café ☕", r.prompt());
        assertTrue(r.toString().contains("bytes") && !r.toString().contains("Once"), "toString never shows the prompt");
        assertEquals(new KernelMessage.Cancel(7, 1000), channel.receive(1000));
    }

    @Test
    void bigRequestArrivesWhole() throws Exception {
        // Above the module's default 64 KiB prompt limit; a socket pair cannot carry the full
        // 1 MiB maximum in one datagram (net.core.wmem_max), the device can.
        String prompt = "a".repeat(100 * 1024);
        kernelSends(Wire.request(Wire.MSG_REQUEST, 9, 0, "", prompt));
        var r = assertInstanceOf(KernelMessage.Request.class, channel.receive(1000));
        assertEquals(prompt, r.prompt());
    }

    @Test
    void malformedMessagesAreRejectedNotMisread() throws Exception {
        MemorySegment bad = Wire.request(Wire.MSG_REQUEST, 3, 0, "", "x");
        bad.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
        kernelSends(bad);
        var e = assertThrows(Wire.WireException.class, () -> channel.receive(1000));
        assertTrue(e.getMessage().startsWith("bad magic"), e.getMessage());

        MemorySegment lying = Wire.request(Wire.MSG_REQUEST, 3, 0, "ab", "x");
        lying.set(ValueLayout.JAVA_INT_UNALIGNED, Wire.offset(Wire.REQ_HDR, "settings_len"), 5);
        kernelSends(lying);
        assertThrows(Wire.WireException.class, () -> channel.receive(1000));

        kernelSends(Wire.request(99, 3, 0, "", ""));
        e = assertThrows(Wire.WireException.class, () -> channel.receive(1000));
        assertTrue(e.getMessage().contains("unknown message type 99"), e.getMessage());
        // The channel still works afterwards.
        kernelSends(Wire.request(Wire.MSG_CANCEL, 4, 0, "", ""));
        assertEquals(new KernelMessage.Cancel(4, 0), channel.receive(1000));
    }

    @Test
    void repliesArriveWhole() throws Exception {
        channel.send(Wire.token(5, "héllo"));
        channel.send(Wire.done(5, 3, 64, Wire.STOP_LENGTH, 123.4567));
        channel.send(Wire.error(6, "bad value"));
        MemorySegment t = kernelReceives();
        assertEquals(Wire.MSG_TOKEN, Wire.replyType(t));
        assertEquals(5, Wire.replyId(t));
        assertArrayEquals("héllo".getBytes(StandardCharsets.UTF_8), Wire.replyPayload(t));
        MemorySegment d = kernelReceives();
        assertEquals(Wire.MSG_DONE, Wire.replyType(d));
        byte[] p = Wire.replyPayload(d);
        assertEquals(3, Wire.doneField(p, "prompt_tokens"));
        assertEquals(64, Wire.doneField(p, "generated_tokens"));
        assertEquals(Wire.STOP_LENGTH, Wire.doneField(p, "stop_reason"));
        assertEquals(123456, Wire.doneField(p, "millitokens_per_sec"));
        MemorySegment e = kernelReceives();
        assertEquals(Wire.MSG_ERROR, Wire.replyType(e));
        assertEquals("bad value", new String(Wire.replyPayload(e), StandardCharsets.UTF_8));
    }

    @Test
    void textIsCutToTheModuleLimitsOnCharacterBoundaries() {
        assertEquals(Wire.STATUS_LIMIT, Wire.replyLength(Wire.status("x".repeat(10_000))));
        // 'é' is two bytes: 511 bytes of 'a' then 'é' must not leave half a character.
        byte[] p = Wire.replyPayload(Wire.error(1, "a".repeat(511) + "é"));
        assertEquals(511, p.length);
        assertEquals("a".repeat(511), new String(p, StandardCharsets.UTF_8));
        assertEquals(3, Wire.clip("aé", 3).length);
    }

    @Test
    void kernelGoingAwayEndsTheChannel() {
        Posix.close(kernelFd);
        kernelFd = -1;
        assertThrows(Channel.ChannelClosedException.class, () -> channel.receive(1000));
    }
}
