package io.llamux.daemon;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * /dev/llamux as a {@link Channel}: one kernel message per read(), one reply per write(),
 * poll() with a timeout so that the reading thread notices shutdown promptly.
 */
public final class DeviceChannel implements Channel {
    private final int fd;
    private final String name;
    private final Arena arena = Arena.ofShared();
    /** Big enough for the largest message, so the kernel never answers EINVAL for size. */
    private final MemorySegment readBuffer = arena.allocate(Wire.MAX_REQUEST_MESSAGE, 8);
    private final Object writeLock = new Object();
    private boolean closed;

    private DeviceChannel(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /** Opens the device and sends HELLO; the errors name the likely cause. */
    public static DeviceChannel open(String path) throws IOException {
        int fd;
        try {
            fd = Posix.open(path, Posix.O_RDWR | Posix.O_CLOEXEC);
        } catch (Posix.ErrnoException e) {
            throw new IOException(switch (e.errno) {
                case Posix.ENOENT -> path + " does not exist: is the llamux module loaded? (modprobe llamux)";
                case Posix.EBUSY -> path + " is busy: another llamuxd has it open";
                case 13 -> path + ": permission denied (the device is root's, mode 0600)";
                default -> e.getMessage();
            }, e);
        }
        DeviceChannel channel = new DeviceChannel(fd, path);
        try {
            channel.handshake();
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    /** Wraps a descriptor that behaves like the device (tests use a SOCK_SEQPACKET pair). */
    static DeviceChannel fromFd(int fd, String name) {
        return new DeviceChannel(fd, name);
    }

    void handshake() throws IOException {
        try {
            send(Wire.hello());
        } catch (Posix.ErrnoException e) {
            if (e.errno == Posix.EPROTO) {
                throw new IOException(name + " refused protocol version " + Wire.PROTO_VERSION
                        + ": the loaded llamux module speaks another version (see dmesg); install matching module and daemon", e);
            }
            throw e;
        }
    }

    @Override
    public KernelMessage receive(int timeoutMillis) throws IOException, Wire.WireException {
        short revents = Posix.pollOne(fd, Posix.POLLIN, timeoutMillis);
        if (revents == 0) return null;
        if ((revents & Posix.POLLIN) == 0) {
            throw new ChannelClosedException(name + " reported " + describe(revents));
        }
        long n;
        try {
            n = Posix.read(fd, readBuffer, readBuffer.byteSize());
        } catch (Posix.ErrnoException e) {
            if (e.errno == Posix.EAGAIN || e.errno == Posix.EINTR) return null;
            throw e;
        }
        if (n == 0) throw new ChannelClosedException(name + " closed");
        return Wire.decode(readBuffer, n);
    }

    @Override
    public void send(MemorySegment reply) throws IOException {
        synchronized (writeLock) {
            if (closed) throw new ChannelClosedException(name + " is closed");
            try (Arena call = Arena.ofConfined()) {
                MemorySegment buf = call.allocate(reply.byteSize(), 8);
                buf.copyFrom(reply);
                long n = Posix.write(fd, buf, buf.byteSize());
                if (n != buf.byteSize()) throw new IOException(name + ": short write " + n + " of " + buf.byteSize());
            } catch (Posix.ErrnoException e) {
                if (e.errno == Posix.ENOENT) {
                    throw new RequestGoneException("request " + Wire.replyId(reply) + " is gone from the kernel");
                }
                throw e;
            }
        }
    }

    private static String describe(short revents) {
        StringBuilder s = new StringBuilder();
        if ((revents & Posix.POLLERR) != 0) s.append("POLLERR ");
        if ((revents & Posix.POLLHUP) != 0) s.append("POLLHUP ");
        if ((revents & Posix.POLLNVAL) != 0) s.append("POLLNVAL ");
        return s.toString().trim();
    }

    @Override
    public void close() {
        synchronized (writeLock) {
            if (closed) return;
            closed = true;
            Posix.close(fd);
        }
        // The reading thread has stopped before close() is called (RequestLoop joins it).
        arena.close();
    }
}
