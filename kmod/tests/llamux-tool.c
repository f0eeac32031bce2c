// SPDX-License-Identifier: GPL-2.0
/*
 * llamux-tool: the few things the VM scenarios cannot do with busybox alone,
 * each reporting errors by errno name so scripts can compare them.
 *
 *   llamux-tool as UID[:GID] CMD [ARG...]
 *	run CMD with that uid/gid, no supplementary groups
 *   llamux-tool write PATH SIZE [CHUNK]
 *	write SIZE bytes ("0123456789" repeated) in CHUNK-byte write() calls,
 *	then close
 *   llamux-tool read-nonblock PATH
 *	one O_NONBLOCK read: data to stdout
 *   llamux-tool open PATH
 *	open read-write, report, close
 *   llamux-tool hold PATH SECONDS
 *	open for writing and keep it open
 *   llamux-tool read-alarm PATH SECONDS
 *	read to EOF with a SIGALRM handler (no SA_RESTART) firing after
 *	SECONDS; reports "read: EINTR" when it interrupts
 *   llamux-tool pin DIR N SIZE
 *	N times: write a SIZE-byte prompt to DIR/prompt, then open
 *	DIR/generate and keep it open; prints "pinned K of N" (and the first
 *	refusal, "refused at I: <step>: ENAME"), then "holding" and sleeps
 *
 * Output: "ok" or "<step>: ENAME" on stderr; exit status 0 only on success.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errname.h"

static int fail(const char *step)
{
	fprintf(stderr, "%s: %s\n", step, errname(errno));
	return 1;
}

static int run_as(char *ids, char **argv)
{
	char *colon = strchr(ids, ':');
	uid_t uid = strtoul(ids, NULL, 10);
	gid_t gid = colon ? strtoul(colon + 1, NULL, 10) : uid;

	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		return fail("setuid");
	execvp(argv[0], argv);
	return fail("exec");
}

static int write_file(const char *path, size_t size, size_t chunk)
{
	char *buf = malloc(chunk ? chunk : 1);
	int fd;

	for (size_t i = 0; i < chunk; i++)
		buf[i] = '0' + i % 10;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return fail("open");
	for (size_t done = 0; done < size;) {
		size_t n = size - done < chunk ? size - done : chunk;
		ssize_t w = write(fd, buf, n);

		if (w < 0)
			return fail("write");
		done += w;
	}
	if (close(fd))
		return fail("close");
	fprintf(stderr, "ok\n");
	return 0;
}

static void on_alarm(int sig)
{
}

/* A handled signal interrupts the wait (EINTR) but must not end the answer. */
static int read_alarm(const char *path, int seconds)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char buf[4096];
	ssize_t n;
	int fd;

	sigaction(SIGALRM, &sa, NULL);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail("open");
	alarm(seconds);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			fprintf(stderr, "read: EINTR\n");
			continue;
		}
		if (n < 0)
			return fail("read");
		if (n == 0)
			return 0;
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
	}
}

/* Loads the module's memory: many prompts, each with its answer held open. */
static int pin(const char *dir, long n, size_t size)
{
	char prompt[512], generate[512], *buf = malloc(size ? size : 1);
	long pinned = 0, refused = 0;

	memset(buf, 'p', size);
	snprintf(prompt, sizeof(prompt), "%s/prompt", dir);
	snprintf(generate, sizeof(generate), "%s/generate", dir);
	for (long i = 1; i <= n; i++) {
		const char *step = "open prompt";
		int fd = open(prompt, O_WRONLY);

		if (fd >= 0) {
			step = "write";
			if (write(fd, buf, size) == (ssize_t)size) {
				step = "close";
				if (!close(fd))
					fd = -2;
			} else {
				close(fd);
				fd = -1;
			}
		}
		if (fd == -2) {
			step = "open generate";
			fd = open(generate, O_RDONLY);
			if (fd >= 0) {
				pinned++;
				continue;
			}
		}
		if (!refused++)
			printf("refused at %ld: %s: %s\n", i, step,
			       errname(errno));
	}
	printf("pinned %ld of %ld\nholding\n", pinned, n);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	int fd;

	if (argc >= 4 && !strcmp(argv[1], "as"))
		return run_as(argv[2], argv + 3);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "write")) {
		size_t size = strtoul(argv[3], NULL, 10);
		size_t chunk = argc == 5 ? strtoul(argv[4], NULL, 10) : size;

		return write_file(argv[2], size, chunk);
	}
	if (argc == 3 && !strcmp(argv[1], "read-nonblock")) {
		fd = open(argv[2], O_RDONLY | O_NONBLOCK);
		if (fd < 0)
			return fail("open");
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return fail("read");
		fwrite(buf, 1, n, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "open")) {
		fd = open(argv[2], O_RDWR);
		if (fd < 0)
			return fail("open");
		close(fd);
		fprintf(stderr, "ok\n");
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "hold")) {
		fd = open(argv[2], O_WRONLY);
		if (fd < 0)
			return fail("open");
		fprintf(stderr, "ok\n");
		sleep(atoi(argv[3]));
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "read-alarm"))
		return read_alarm(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "pin"))
		return pin(argv[2], atol(argv[3]), strtoul(argv[4], NULL, 10));
	fprintf(stderr, "usage: see the comment at the top of llamux-tool.c\n");
	return 2;
}
