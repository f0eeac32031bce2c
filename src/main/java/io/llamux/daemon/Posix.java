package io.llamux.daemon;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the daemon needs (device I/O, poll, mmap/madvise/mlock, unix datagram
 * sockets), bound with java.lang.foreign and errno captured per call.
 *
 * <p>Why not JNA: the FFM API is part of the JDK, works on {@link MemorySegment}s directly
 * (the same type the model lives in), and needs no native stub unpacked into /tmp, which a
 * hardened systemd unit may mount noexec. Numbers are Linux's generic ABI (x86-64, arm64).
 */
public final class Posix {
    public static final int O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public static final short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
    public static final int PROT_READ = 1, PROT_WRITE = 2;
    public static final int MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MAP_HUGETLB = 0x40000;
    public static final int MADV_HUGEPAGE = 14;
    public static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000;
    public static final int EPERM = 1, ENOENT = 2, EINTR = 4, EAGAIN = 11, ENOMEM = 12, EBUSY = 16,
            EINVAL = 22, EPROTO = 71, ECONNREFUSED = 111;

    /** struct sockaddr_un: sa_family_t then 108 path bytes. */
    static final int SOCKADDR_UN_SIZE = 110;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle POLL = bind("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MADVISE = bind("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MLOCK = bind("mlock", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = bind("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BIND = bind("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDTO = bind("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ISATTY = bind("isatty", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Posix() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, options);
    }

    /** A failed call: which one, its errno, and libc's words for it. */
    public static final class ErrnoException extends java.io.IOException {
        public final int errno;

        ErrnoException(String call, int errno) {
            super(call + ": " + strerror(errno) + " (errno " + errno + ")");
            this.errno = errno;
        }
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    public static int open(String path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, 0);
            if (fd < 0) throw new ErrnoException("open " + path, errno(state));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** isatty(3): whether {@code fd} is a terminal. */
    public static boolean isatty(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) ISATTY.invokeExact(arena.allocate(CALL_STATE), fd) == 1;
        } catch (Throwable t) {
            return false;
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** read(2); returns the byte count (0 at end of file). */
    public static long read(int fd, MemorySegment buf, long count) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long n = (long) READ.invokeExact(state, fd, buf, count);
            if (n < 0) throw new ErrnoException("read", errno(state));
            return n;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long write(int fd, MemorySegment buf, long count) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long n = (long) WRITE.invokeExact(state, fd, buf, count);
            if (n < 0) throw new ErrnoException("write", errno(state));
            return n;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** poll(2) on one descriptor; returns revents, 0 on timeout, and 0 when a signal interrupted. */
    public static short pollOne(int fd, short events, int timeoutMillis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment pfd = arena.allocate(8, 4); // struct pollfd { int fd; short events, revents; }
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, events);
            int n = (int) POLL.invokeExact(state, pfd, 1L, timeoutMillis);
            if (n < 0) {
                int e = errno(state);
                if (e == EINTR) return 0;
                throw new ErrnoException("poll", e);
            }
            return n == 0 ? 0 : pfd.get(ValueLayout.JAVA_SHORT, 6);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Anonymous private mapping of {@code size} bytes; {@code extraFlags} e.g. MAP_HUGETLB. */
    public static MemorySegment mmapAnonymous(long size, int extraFlags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment p = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, size,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extraFlags, -1, 0L);
            if (p.address() == -1L) throw new ErrnoException("mmap", errno(state));
            return p.reinterpret(size);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munmap(MemorySegment mapping) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) MUNMAP.invokeExact(arena.allocate(CALL_STATE), mapping, mapping.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void madvise(MemorySegment range, int advice) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) MADVISE.invokeExact(state, range, range.byteSize(), advice);
            if (r != 0) throw new ErrnoException("madvise", errno(state));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mlock(MemorySegment range) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) MLOCK.invokeExact(state, range, range.byteSize());
            if (r != 0) throw new ErrnoException("mlock", errno(state));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int socket(int domain, int type) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) SOCKET.invokeExact(state, domain, type, 0);
            if (fd < 0) throw new ErrnoException("socket", errno(state));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** socketpair(AF_UNIX, type); returns both descriptors. */
    public static int[] socketpair(int type) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            int r = (int) SOCKETPAIR.invokeExact(state, AF_UNIX, type, 0, fds);
            if (r != 0) throw new ErrnoException("socketpair", errno(state));
            return new int[]{fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * struct sockaddr_un for a path; a leading '@' names the abstract namespace (as
     * $NOTIFY_SOCKET does). Returns the address and sets its used length in {@code length[0]}.
     */
    static MemorySegment sockaddrUn(Arena arena, String path, int[] length) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length == 0 || name.length > SOCKADDR_UN_SIZE - 3) {
            throw new IllegalArgumentException("unix socket path empty or longer than 107 bytes: " + path);
        }
        MemorySegment sa = arena.allocate(SOCKADDR_UN_SIZE, 2);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, sa, ValueLayout.JAVA_BYTE, 2, name.length);
        boolean abstractName = name[0] == '@';
        if (abstractName) sa.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
        // Abstract names are exactly their bytes; filesystem names carry their terminating NUL.
        length[0] = 2 + name.length + (abstractName ? 0 : 1);
        return sa;
    }

    public static void bindUnix(int fd, String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int[] len = new int[1];
            MemorySegment sa = sockaddrUn(arena, path, len);
            int r = (int) BIND.invokeExact(state, fd, sa, len[0]);
            if (r != 0) throw new ErrnoException("bind " + path, errno(state));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** One datagram to a unix socket path. */
    public static void sendToUnix(int fd, byte[] message, String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int[] len = new int[1];
            MemorySegment sa = sockaddrUn(arena, path, len);
            MemorySegment buf = arena.allocateFrom(ValueLayout.JAVA_BYTE, message);
            long n = (long) SENDTO.invokeExact(state, fd, buf, (long) message.length, 0, sa, len[0]);
            if (n < 0) throw new ErrnoException("sendto " + path, errno(state));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
