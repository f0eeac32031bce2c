/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Llamux wire format between the kernel module and the daemon (/dev/llamux).
 *
 * Every field is fixed-width little-endian.  The daemon read()s exactly one
 * kernel->daemon message per call (a buffer too small for the next message
 * gets EINVAL, never a truncated message) and write()s exactly one
 * daemon->kernel message per call.  The Java daemon mirrors these numbers in
 * io.llamux.daemon.Wire, and a unit test compares the two.
 *
 * Semantics (kmod/llamux.c; kmod/tests/llamux-testd.c is the conformance test):
 * - HELLO first: before it, read() and write() of anything else fail with
 *   EPROTO.  A HELLO whose version (header or payload) differs from
 *   LLAMUX_PROTO_VERSION fails with EPROTO and is logged; a second one EINVAL.
 * - read(): CANCELs first, then the oldest REQUEST.  Blocks unless O_NONBLOCK
 *   (EAGAIN); poll() says POLLIN when a message is waiting, and HELLO wakes
 *   pollers and readers that wait.  A buffer of
 *   sizeof(struct llamux_req_hdr) + LLAMUX_MAX_PAYLOAD always suffices.  A
 *   read whose copy faults (EFAULT) loses nothing: the message stays first.
 * - write() replies are validated: shorter than a header, bad magic, length
 *   over LLAMUX_MAX_PAYLOAD or not equal to the bytes written, flags set,
 *   wrong version or type, malformed DONE/HELLO (wrong size, HELLO flags
 *   set, a stop_reason this header does not name): EINVAL.  Reserved fields
 *   must be 0 so that they can carry meaning later.  TOKEN/DONE/ERROR for
 *   an id that is not in flight (never read, or already ended): ENOENT.
 * - TOKEN appends to the answer; the first TOKEN (an empty one will do) also
 *   marks the request started.  DONE ends it (readers get EOF).  ERROR ends
 *   it with the message appended as a last line "llamux: <message>\n" (cut to
 *   512 bytes; an empty one reads "llamux: the daemon gave no reason"),
 *   then EOF: readers always see errors as text, never as errno.
 *   STATUS (id 0, at most 4096 bytes) replaces the daemon's text in
 *   /proc/llamux/status.
 * - CANCEL: every reader closed generate before the end (or was killed),
 *   or its uid wrote a newer prompt.  Readers have
 *   already been given "llamux: cancelled" (or "superseded ..."); TOKENs for
 *   the id are accepted and dropped until the daemon ends it with DONE
 *   (stop_reason LLAMUX_STOP_CANCEL) or ERROR, which it must still send.
 * - When the daemon's file is closed, requests it had started end with
 *   "llamux: daemon exited".  Requests it had read but not started go back to
 *   the head of the queue and, with the queued ones, wait for the next daemon.
 *   So a daemon that reads ahead (to schedule fairly) loses nothing when it
 *   dies, and one that sends an empty TOKEN before working on a request never
 *   gets a request that killed it back.
 */
#ifndef _UAPI_LLAMUX_H
#define _UAPI_LLAMUX_H

#include <linux/types.h>

/* "LLMX" as little-endian bytes. */
#define LLAMUX_MAGIC		0x584d4c4cU
#define LLAMUX_PROTO_VERSION	1

/* Largest payload of one message in either direction (1 MiB). */
#define LLAMUX_MAX_PAYLOAD	(1024U * 1024U)

enum llamux_msg_type {
	/* kernel -> daemon; the comments say what the payload is */
	LLAMUX_MSG_REQUEST	= 1,	/* settings text, then prompt */
	LLAMUX_MSG_CANCEL	= 2,	/* none: the reader gave up on id */

	/* daemon -> kernel */
	LLAMUX_MSG_HELLO	= 16,	/* struct llamux_hello; first write */
	LLAMUX_MSG_TOKEN	= 17,	/* UTF-8 text appended to the answer */
	LLAMUX_MSG_DONE		= 18,	/* struct llamux_done; answer ends */
	LLAMUX_MSG_ERROR	= 19,	/* UTF-8 message shown to the reader */
	LLAMUX_MSG_STATUS	= 20,	/* text for /proc/llamux/status */
};

/* kernel -> daemon header, 40 bytes, followed by length payload bytes. */
struct llamux_req_hdr {
	__le32 magic;
	__le16 version;
	__le16 type;		/* enum llamux_msg_type */
	__le32 length;		/* payload bytes after this header */
	/* REQUEST: how many leading payload bytes are settings text */
	__le32 settings_len;
	__le64 id;		/* request id, never 0 */
	__le32 uid;		/* fsuid of the writer */
	__le32 gid;		/* fsgid of the writer */
	__le32 pid;		/* tgid of the writer */
	__le32 flags;		/* reserved, 0 */
};

/* daemon -> kernel header, 24 bytes, followed by length payload bytes. */
struct llamux_reply_hdr {
	__le32 magic;
	__le16 version;
	__le16 type;		/* enum llamux_msg_type */
	__le32 length;		/* payload bytes after this header */
	__le32 flags;		/* reserved, 0 */
	__le64 id;		/* request id; 0 for HELLO and STATUS */
};

/* HELLO payload, 8 bytes. */
struct llamux_hello {
	__le32 version;		/* LLAMUX_PROTO_VERSION the daemon speaks */
	__le32 flags;		/* reserved, 0 */
};

/* Why generation stopped (struct llamux_done.stop_reason). */
enum llamux_stop_reason {
	LLAMUX_STOP_EOS		= 0,
	LLAMUX_STOP_LENGTH	= 1,	/* max_tokens reached */
	LLAMUX_STOP_CONTEXT	= 2,	/* context window full */
	LLAMUX_STOP_CANCEL	= 3,
};

/*
 * DONE payload, 16 bytes.  Speeds are integers: the kernel does no floating
 * point.
 */
struct llamux_done {
	__le32 prompt_tokens;
	__le32 generated_tokens;
	__le32 stop_reason;	/* enum llamux_stop_reason */
	__le32 millitokens_per_sec;	/* generation speed x 1000 */
};

#endif /* _UAPI_LLAMUX_H */
