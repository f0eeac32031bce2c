// SPDX-License-Identifier: GPL-2.0
/*
 * llamux-testd: a deterministic daemon for /dev/llamux and the conformance
 * test of the wire protocol in llamux_uapi.h.
 *
 * Every answer is the line "[id=N uid=U gid=G settings=S]" followed by the
 * prompt bytes, sent as several TOKEN pieces, then DONE.  Tests can thus
 * check that each reader got its own prompt back, with its own settings.
 * Options make it misbehave in the ways the kernel must survive.  Events go
 * to stdout, one line each, for scenario scripts to grep.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "llamux_uapi.h"
#include "errname.h"

#define BUF_SIZE (sizeof(struct llamux_req_hdr) + LLAMUX_MAX_PAYLOAD)
#define MAX_HELD 64

struct msg {
	struct llamux_req_hdr hdr;
	char *payload;
};

static int fd;
static int pieces = 4;
static int delay_ms;
static int serial;
static int blocking;
static const char *gate;
static int die_mid_answer;
static const char *error_text;
static const char *misbehave;
static int checks_failed;
static char *rbuf;
/* Unreadable and unwritable: a read() into it must fail with EFAULT. */
static char *badbuf;

/* Requests read while answering another, in arrival order. */
static struct msg held[MAX_HELD];
static int nheld;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* One daemon->kernel message in one write(); returns 0 or an errno. */
static int send_msg(uint16_t type, uint64_t id, const void *payload,
		    uint32_t len)
{
	static char out[sizeof(struct llamux_reply_hdr) + LLAMUX_MAX_PAYLOAD];
	struct llamux_reply_hdr hdr = {
		.magic = LLAMUX_MAGIC,
		.version = LLAMUX_PROTO_VERSION,
		.type = type,
		.length = len,
		.id = id,
	};

	memcpy(out, &hdr, sizeof(hdr));
	if (len)
		memcpy(out + sizeof(hdr), payload, len);
	if (write(fd, out, sizeof(hdr) + len) < 0)
		return errno;
	return 0;
}

static void must_send(uint16_t type, uint64_t id, const void *payload,
		      uint32_t len)
{
	int err = send_msg(type, id, payload, len);

	if (err) {
		say("error: write type %u id %llu: %s", type,
		    (unsigned long long)id, errname(err));
		exit(1);
	}
}

/*
 * With -m fault-read, a message that is ready is first read into unmapped
 * memory: the kernel must answer EFAULT and keep the message (REQUEST or
 * CANCEL) for the next read.
 */
static void fault_read(void)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int err;

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return;
	err = read(fd, badbuf, BUF_SIZE) < 0 ? errno : 0;
	say("fault read: %s %s", errname(err), err == EFAULT ? "ok" : "FAIL");
	checks_failed += err != EFAULT;
}

/* Reads one message; returns 0, or an errno (EAGAIN when none is ready). */
static int read_msg(struct msg *m)
{
	ssize_t n;

	if (badbuf)
		fault_read();
	n = read(fd, rbuf, BUF_SIZE);

	if (n < 0)
		return errno;
	if ((size_t)n < sizeof(m->hdr)) {
		say("error: short read of %zd bytes", n);
		exit(1);
	}
	memcpy(&m->hdr, rbuf, sizeof(m->hdr));
	if (m->hdr.magic != LLAMUX_MAGIC ||
	    m->hdr.version != LLAMUX_PROTO_VERSION ||
	    m->hdr.length != n - sizeof(m->hdr) || !m->hdr.id ||
	    m->hdr.settings_len > m->hdr.length) {
		say("error: malformed message from the kernel");
		exit(1);
	}
	m->payload = malloc(m->hdr.length + 1);
	memcpy(m->payload, rbuf + sizeof(m->hdr), m->hdr.length);
	m->payload[m->hdr.length] = 0;
	return 0;
}

/*
 * Waits up to timeout_ms (-1: forever) for a message.  With -b, waiting
 * forever is a blocking read(), as a simple daemon would do it.
 */
static int wait_msg(struct msg *m, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int err;

	if (blocking) {
		if (timeout_ms >= 0 && poll(&p, 1, timeout_ms) == 0)
			return EAGAIN;
		return read_msg(m);
	}
	for (;;) {
		err = read_msg(m);
		if (err != EAGAIN)
			return err;
		if (poll(&p, 1, timeout_ms) == 0)
			return EAGAIN;
	}
}

/*
 * A CANCEL for a request read ahead: it is dropped, and like every request
 * read it still ends with DONE, or the kernel keeps its queue slot.
 */
static void drop_held(uint64_t id)
{
	struct llamux_done done = { .stop_reason = LLAMUX_STOP_CANCEL };

	for (int i = 0; i < nheld; i++) {
		if (held[i].hdr.id == id) {
			must_send(LLAMUX_MSG_DONE, id, &done, sizeof(done));
			say("cancel id=%llu (not started)",
			    (unsigned long long)id);
			free(held[i].payload);
			memmove(&held[i], &held[i + 1],
				(nheld - i - 1) * sizeof(held[0]));
			nheld--;
			return;
		}
	}
	say("cancel id=%llu (already answered)", (unsigned long long)id);
}

/*
 * Waits between pieces: delay_ms, and with -g until the gate file exists.
 * Unless serial, it watches the device meanwhile: a CANCEL for the current
 * request ends the wait (returns 1); other requests are held for later.
 */
static int pause_watching(uint64_t current, int ms)
{
	long end = now_ms() + ms;
	struct msg m;
	int err;

	for (;;) {
		long left = end - now_ms();
		int closed = gate && access(gate, F_OK) != 0;

		if (left <= 0 && !closed)
			return 0;
		if (left <= 0 || (closed && left > 100))
			left = 100;
		if (serial) {
			usleep(left * 1000);
			continue;
		}
		err = wait_msg(&m, left);
		if (err == EAGAIN)
			continue;
		if (err) {
			say("error: read: %s", errname(err));
			exit(1);
		}
		if (m.hdr.type == LLAMUX_MSG_CANCEL) {
			free(m.payload);
			if (m.hdr.id == current)
				return 1;
			drop_held(m.hdr.id);
		} else if (nheld < MAX_HELD) {
			say("held id=%llu", (unsigned long long)m.hdr.id);
			held[nheld++] = m;
		} else {
			say("error: too many requests held");
			exit(1);
		}
	}
}

/* Sends one malformed reply and checks the kernel refuses it with want. */
static void expect_reject(const char *kind, const void *data, size_t len,
			  int want)
{
	int got = write(fd, data, len) < 0 ? errno : 0;

	if (got == want) {
		say("reject %s: %s ok", kind, errname(got));
	} else {
		say("reject %s: expected %s, got %s FAIL", kind, errname(want),
		    errname(got));
		checks_failed++;
	}
}

/* Kinds that "all" leaves out: they need a scenario built around them. */
static int named(const char *kind)
{
	const char *p = misbehave;
	size_t n = strlen(kind);

	if (!p)
		return 0;
	while ((p = strstr(p, kind))) {
		if ((p == misbehave || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

static int wants(const char *kind)
{
	return (misbehave && !strcmp(misbehave, "all")) || named(kind);
}

static void misbehave_on(uint64_t id)
{
	struct {
		struct llamux_reply_hdr h;
		char payload[16];
	} w;
	const struct llamux_reply_hdr good = {
		.magic = LLAMUX_MAGIC, .version = LLAMUX_PROTO_VERSION,
		.type = LLAMUX_MSG_TOKEN, .length = 5, .id = id,
	};
	size_t full = sizeof(good) + 5;

	memcpy(w.payload, "WRONG", 5);
	if (wants("bad-magic")) {
		w.h = good;
		w.h.magic = 0x12345678;
		expect_reject("bad-magic", &w, full, EINVAL);
	}
	if (wants("wrong-length")) {
		w.h = good;
		w.h.length = 10;
		expect_reject("wrong-length", &w, full, EINVAL);
	}
	if (wants("unknown-id")) {
		w.h = good;
		w.h.id = id + 1000000;
		expect_reject("unknown-id", &w, full, ENOENT);
	}
	if (wants("truncated")) {
		w.h = good;
		expect_reject("truncated", &w, 10, EINVAL);
	}
	if (wants("huge-length")) {
		w.h = good;
		w.h.length = 0xfffffff0;
		expect_reject("huge-length", &w, sizeof(w.h), EINVAL);
	}
	if (wants("bad-flags")) {
		w.h = good;
		w.h.flags = 1;
		expect_reject("bad-flags", &w, full, EINVAL);
	}
	if (wants("bad-type")) {
		w.h = good;
		w.h.type = LLAMUX_MSG_REQUEST;
		expect_reject("bad-type", &w, full, EINVAL);
	}
	if (wants("bad-version")) {
		w.h = good;
		w.h.version = LLAMUX_PROTO_VERSION + 1;
		expect_reject("bad-version", &w, full, EINVAL);
	}
	if (wants("bad-done")) {
		w.h = good;
		w.h.type = LLAMUX_MSG_DONE;
		expect_reject("bad-done", &w, full, EINVAL);
	}
	if (wants("bad-stop")) {
		struct llamux_done done = { .stop_reason = 99 };

		w.h = good;
		w.h.type = LLAMUX_MSG_DONE;
		w.h.length = sizeof(done);
		memcpy(w.payload, &done, sizeof(done));
		expect_reject("bad-stop", &w, sizeof(w.h) + sizeof(done),
			      EINVAL);
	}
	if (wants("second-hello")) {
		struct llamux_hello hello = { .version = LLAMUX_PROTO_VERSION };

		w.h = good;
		w.h.type = LLAMUX_MSG_HELLO;
		w.h.id = 0;
		w.h.length = sizeof(hello);
		memcpy(w.payload, &hello, sizeof(hello));
		expect_reject("second-hello", &w, sizeof(w.h) + sizeof(hello),
			      EINVAL);
	}
}

static void answer(struct msg *m)
{
	uint64_t id = m->hdr.id;
	uint32_t slen = m->hdr.settings_len;
	uint32_t plen = m->hdr.length - slen;
	char *text;
	size_t tlen, sent = 0;
	long start = now_ms();
	struct llamux_done done = { 0 };
	int k;

	say("request id=%llu uid=%u gid=%u pid=%u settings=%u prompt=%u",
	    (unsigned long long)id, m->hdr.uid, m->hdr.gid, m->hdr.pid, slen,
	    plen);
	/*
	 * Mark it started before anything can go wrong with it: if this daemon
	 * dies now, the kernel ends it with an error instead of handing a
	 * request that may have killed us to the next daemon.
	 */
	must_send(LLAMUX_MSG_TOKEN, id, NULL, 0);
	misbehave_on(id);
	if (error_text) {
		must_send(LLAMUX_MSG_ERROR, id, error_text, strlen(error_text));
		say("failed id=%llu", (unsigned long long)id);
		return;
	}
	while (slen && (m->payload[slen - 1] == '\n' ||
			m->payload[slen - 1] == ' '))
		slen--;
	tlen = snprintf(NULL, 0, "[id=%llu uid=%u gid=%u settings=%.*s]\n",
			(unsigned long long)id, m->hdr.uid, m->hdr.gid,
			(int)slen, m->payload) + plen;
	text = malloc(tlen + 1);
	k = sprintf(text, "[id=%llu uid=%u gid=%u settings=%.*s]\n",
		    (unsigned long long)id, m->hdr.uid, m->hdr.gid, (int)slen,
		    m->payload);
	memcpy(text + k, m->payload + m->hdr.settings_len, plen);

	for (int i = 0; i < pieces && sent < tlen; i++) {
		size_t n = (tlen + pieces - 1) / pieces;

		if (i == pieces - 1 || n > tlen - sent)
			n = tlen - sent;
		if (i && (delay_ms || gate) && pause_watching(id, delay_ms)) {
			say("cancel id=%llu (answering, %zu of %zu bytes sent)",
			    (unsigned long long)id, sent, tlen);
			done.stop_reason = LLAMUX_STOP_CANCEL;
			must_send(LLAMUX_MSG_DONE, id, &done, sizeof(done));
			free(text);
			return;
		}
		must_send(LLAMUX_MSG_TOKEN, id, text + sent, n);
		sent += n;
		say("piece id=%llu %d/%d", (unsigned long long)id, i + 1,
		    pieces);
		if (die_mid_answer) {
			say("dying mid-answer id=%llu", (unsigned long long)id);
			raise(SIGKILL);
		}
	}
	done.prompt_tokens = plen;
	done.generated_tokens = pieces;
	done.stop_reason = LLAMUX_STOP_EOS;
	done.millitokens_per_sec = pieces * 1000000L / (now_ms() - start + 1);
	must_send(LLAMUX_MSG_DONE, id, &done, sizeof(done));
	say("answered id=%llu bytes=%zu", (unsigned long long)id, tlen);
	free(text);
}

/* HELLO goes with the header version equal to the claimed one. */
static int send_hello(const struct llamux_hello *hello)
{
	struct llamux_reply_hdr h = {
		.magic = LLAMUX_MAGIC, .version = hello->version,
		.type = LLAMUX_MSG_HELLO, .length = sizeof(*hello),
	};
	char out[sizeof(h) + sizeof(*hello)];

	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), hello, sizeof(*hello));
	return write(fd, out, sizeof(out)) < 0 ? errno : 0;
}

/*
 * -m hello-wakes: a second thread of the daemon (here a child sharing the
 * file) already sleeps in poll() when HELLO is sent, with a request queued.
 * HELLO must wake it; it reports within 5 s or fails.
 */
static pid_t start_poller(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long start = now_ms();
		int n = poll(&p, 1, 5000);
		int ok = n == 1 && (p.revents & POLLIN);

		say("hello woke a poller: %s (%ld ms)", ok ? "ok" : "FAIL",
		    now_ms() - start);
		_exit(!ok);
	}
	/* Give it time to go to sleep in poll() before HELLO. */
	usleep(300 * 1000);
	return pid;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: llamux-testd [-d DEV] [-p PIECES] [-t DELAY_MS] [-n COUNT] [-s] [-k] [-b]\n"
		"                    [-g GATE_FILE]\n"
		"                    [-e ERROR_TEXT] [-S STATUS_TEXT] [-V VERSION] [-m KINDS]\n"
		"  -s  serial: do not read the device while answering\n"
		"  -g  send the pieces after the first only once GATE_FILE exists\n"
		"  -b  blocking reads instead of O_NONBLOCK + poll() when idle\n"
		"  -k  SIGKILL itself after the first piece of an answer\n"
		"  -m  malformed replies to try before each answer, comma-separated or 'all':\n"
		"      bad-magic wrong-length unknown-id truncated huge-length bad-flags\n"
		"      bad-type bad-version bad-done bad-stop second-hello; and before-hello\n"
		"      hello-flags small-read; only when named: hello-wakes (a poller\n"
		"      started before HELLO must wake with a request queued), fault-read\n"
		"      (each ready message is first read into unmapped memory: EFAULT)\n"
		"exit: 0 ok, 1 error, 2 cannot open, 3 HELLO refused, 4 a rejection check failed\n");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/llamux", *status_text = NULL;
	struct llamux_hello hello = { .version = LLAMUX_PROTO_VERSION };
	long count = 0, answered = 0;
	pid_t poller = 0;
	struct msg m;
	int opt, err;

	while ((opt = getopt(argc, argv, "d:p:t:n:skbg:V:m:e:S:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'p':
			pieces = atoi(optarg);
			break;
		case 't':
			delay_ms = atoi(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 's':
			serial = 1;
			break;
		case 'k':
			die_mid_answer = 1;
			break;
		case 'b':
			blocking = 1;
			break;
		case 'g':
			gate = optarg;
			break;
		case 'V':
			hello.version = atoi(optarg);
			break;
		case 'm':
			misbehave = optarg;
			break;
		case 'e':
			error_text = optarg;
			break;
		case 'S':
			status_text = optarg;
			break;
		default:
			usage();
		}
	}
	if (pieces < 1)
		usage();
	rbuf = malloc(BUF_SIZE);
	if (named("fault-read")) {
		badbuf = mmap(NULL, BUF_SIZE, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (badbuf == MAP_FAILED)
			return 1;
	}
	fd = open(dev, blocking ? O_RDWR : O_RDWR | O_NONBLOCK);
	if (fd < 0) {
		say("open %s: %s", dev, errname(errno));
		return 2;
	}
	if (wants("before-hello")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		err = send_msg(LLAMUX_MSG_TOKEN, 1, "x", 1);
		say("reject before-hello write: %s %s", errname(err),
		    err == EPROTO ? "ok" : "FAIL");
		checks_failed += err != EPROTO;
		err = read(fd, rbuf, BUF_SIZE) < 0 ? errno : 0;
		say("reject before-hello read: %s %s", errname(err),
		    err == EPROTO ? "ok" : "FAIL");
		checks_failed += err != EPROTO;
		poll(&p, 1, 0);
		say("poll before hello: %s",
		    p.revents & POLLIN ? "readable FAIL" : "not readable ok");
		checks_failed += !!(p.revents & POLLIN);
	}
	if (wants("hello-flags")) {
		struct llamux_hello bad = hello;

		bad.flags = 1;
		err = send_hello(&bad);
		say("reject hello-flags: %s %s", errname(err),
		    err == EINVAL ? "ok" : "FAIL");
		checks_failed += err != EINVAL;
	}
	if (named("hello-wakes"))
		poller = start_poller();
	err = send_hello(&hello);
	if (err) {
		say("hello version %u refused: %s", hello.version,
		    errname(err));
		return err == EPROTO ? 3 : 1;
	}
	say("hello ok, protocol %u", hello.version);
	if (poller > 0) {
		int status;

		waitpid(poller, &status, 0);
		checks_failed += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	if (status_text)
		must_send(LLAMUX_MSG_STATUS, 0, status_text,
			  strlen(status_text));
	if (wants("small-read")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, -1);
		err = read(fd, rbuf, 8) < 0 ? errno : 0;
		say("reject small-read: %s %s", errname(err),
		    err == EINVAL ? "ok" : "FAIL");
		checks_failed += err != EINVAL;
	}
	for (;;) {
		if (nheld) {
			m = held[0];
			memmove(&held[0], &held[1], --nheld * sizeof(held[0]));
		} else {
			err = wait_msg(&m, -1);
			if (err) {
				say("error: read: %s", errname(err));
				return 1;
			}
		}
		if (m.hdr.type == LLAMUX_MSG_REQUEST) {
			answer(&m);
			answered++;
		} else if (m.hdr.type == LLAMUX_MSG_CANCEL) {
			say("cancel id=%llu (already answered)",
			    (unsigned long long)m.hdr.id);
		} else {
			say("error: unexpected message type %u", m.hdr.type);
			return 1;
		}
		free(m.payload);
		if (count && answered >= count)
			break;
	}
	say("exiting after %ld answers", answered);
	return checks_failed ? 4 : 0;
}
