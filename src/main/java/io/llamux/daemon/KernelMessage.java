package io.llamux.daemon;

/** One message the kernel sent the daemon. The prompt is user text: never log it. */
public sealed interface KernelMessage {
    long id();

    int uid();

    /** A user's prompt with the settings text from their /proc/llamux/config. */
    record Request(long id, int uid, int gid, int pid, String settings, String prompt, int promptBytes)
            implements KernelMessage {
        @Override
        public String toString() {
            return "Request[id=" + id + ", uid=" + uid + ", pid=" + pid + ", prompt " + promptBytes + " bytes]";
        }
    }

    /** The reader of request {@code id} went away: stop working on it. */
    record Cancel(long id, int uid) implements KernelMessage {
    }
}
