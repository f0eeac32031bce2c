package io.llamux.daemon;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** The daemon's side of the kernel relay: messages in, replies out. */
public interface Channel extends AutoCloseable {

    /** The next kernel message, or null when none came within {@code timeoutMillis}. */
    KernelMessage receive(int timeoutMillis) throws IOException, Wire.WireException;

    /** Writes one encoded reply (see {@link Wire}); safe to call from several threads. */
    void send(MemorySegment reply) throws IOException;

    @Override
    void close();

    /** The kernel no longer knows the request (its reader went away): stop working on it. */
    final class RequestGoneException extends IOException {
        public RequestGoneException(String message) {
            super(message);
        }
    }

    /** The other end is gone (module unloaded, device closed): the daemon must stop. */
    final class ChannelClosedException extends IOException {
        public ChannelClosedException(String message) {
            super(message);
        }
    }
}
