// SPDX-License-Identifier: GPL-2.0
/*
 * llamux: large language models behind /proc/llamux.
 *
 * Users write a prompt to /proc/llamux/prompt (submitted when the file is
 * closed) and read the answer from /proc/llamux/generate, which streams
 * text as the daemon produces it.  The daemon (llamuxd) holds /dev/llamux,
 * reads one request per read() and writes replies; the wire format is in
 * llamux_uapi.h.  The kernel does no parsing beyond message headers: no
 * numbers, no floating point; settings are opaque text for the daemon.
 *
 * Requests are refcounted.  References are held by: the queue a request is
 * on (pending or in flight), the list of CANCELs owed to the daemon, its
 * user's "latest" slot, and each open generate file.  A request that has
 * not finished is always its user's latest; a newer prompt from the same
 * user supersedes (and cancels) the older one.  One mutex guards all state;
 * user copies never happen under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "llamux_uapi.h"

/* Per-user settings text (/proc/llamux/config) is at most this long. */
#define LLAMUX_MAX_SETTINGS	4096
/* A request carries settings and prompt in one payload, so both must fit. */
#define LLAMUX_MAX_PROMPT	(LLAMUX_MAX_PAYLOAD - LLAMUX_MAX_SETTINGS)
/* The daemon's status text (/proc/llamux/status) is at most this long. */
#define LLAMUX_MAX_STATUS	4096
/* An ERROR message from the daemon is cut to this many bytes. */
#define LLAMUX_MAX_ERROR	512
/* generate copies at most this much per read() (through a bounce buffer). */
#define LLAMUX_READ_CHUNK	(16 * 1024)

static unsigned int max_prompt_bytes = 64 * 1024;
module_param(max_prompt_bytes, uint, 0444);
MODULE_PARM_DESC(max_prompt_bytes, "Largest prompt in bytes; larger writes fail with EFBIG (default 65536)");

static unsigned int max_queue = 64;
module_param(max_queue, uint, 0444);
MODULE_PARM_DESC(max_queue, "Prompts being written, queued or answered at once; more fail with EBUSY (default 64)");

static unsigned int max_answer_bytes = 1024 * 1024;
module_param(max_answer_bytes, uint, 0444);
MODULE_PARM_DESC(max_answer_bytes, "Longest answer kept in bytes; longer answers are cut with an error (default 1 MiB)");

enum llamux_req_state {
	LLAMUX_REQ_QUEUED,	/* on lx.pending, waiting for the daemon */
	LLAMUX_REQ_TAKEN,	/* read by the daemon, on lx.inflight */
	/* on lx.inflight and finished; the daemon has not acknowledged */
	LLAMUX_REQ_CANCELLING,
	LLAMUX_REQ_DONE,	/* on no queue */
};

static const char *const llamux_state_names[] = {
	[LLAMUX_REQ_QUEUED] = "queued",
	[LLAMUX_REQ_TAKEN] = "answering",
	[LLAMUX_REQ_CANCELLING] = "cancelling",
	[LLAMUX_REQ_DONE] = "done",
};

struct llamux_req {
	struct kref ref;
	u64 id;
	kuid_t uid;
	kgid_t gid;
	pid_t pid;
	enum llamux_req_state state;
	struct list_head node;		/* on lx.pending or lx.inflight */
	struct list_head cancel_node;	/* on lx.cancels: a CANCEL is owed */
	/* Settings text, then prompt; immutable. */
	char *payload;
	u32 settings_len;
	u32 payload_len;
	/* Grows as tokens arrive; readers copy it under lx.lock. */
	char *answer;
	size_t answer_len;
	size_t answer_cap;
	/* The answer is complete: readers get EOF after it. */
	bool finished;
	/*
	 * The daemon has begun work on it (sent a TOKEN, maybe empty): if the
	 * daemon dies, it ends with an error instead of going back to the
	 * queue.
	 */
	bool started;
	/* DONE's counters, shown in status to this request's user only. */
	bool counted;
	u32 prompt_tokens, generated_tokens;
	wait_queue_head_t wait;		/* generate readers */
};

struct llamux_user {
	struct hlist_node node;
	kuid_t uid;
	struct llamux_req *latest;	/* what this user's generate shows */
	char *settings;
	u32 settings_len;
};

/*
 * Totals over every DONE, for status: readable by everyone, so nothing that
 * belongs to one request.  Speed: tokens of answers that gave one, over the
 * milliseconds they took.
 */
struct llamux_totals {
	u64 prompt_tokens, generated_tokens;
	u64 timed_tokens, timed_ms;
};

struct llamux_counts {
	u64 submitted, answered, failed, cancelled, superseded, aborted;
	u64 rejected;
};

static struct {
	/* Guards all of lx and every request; no user copies under it. */
	struct mutex lock;
	struct list_head pending;	/* QUEUED, oldest first */
	struct list_head inflight;	/* TAKEN and CANCELLING */
	struct list_head cancels;	/* CANCELLING, CANCEL not yet read */
	unsigned int nr_pending, nr_inflight, nr_cancels, nr_writing;
	u64 next_id;
	bool daemon_attached;
	bool hello;			/* the daemon completed HELLO */
	pid_t daemon_pid;
	char *daemon_status;
	size_t daemon_status_len;
	wait_queue_head_t daemon_wait;
	bool dying;			/* module unload has begun */
	DECLARE_HASHTABLE(users, 6);
	struct llamux_counts count;
	struct llamux_totals total;
	struct proc_dir_entry *proc_dir;
} lx;

/* Request objects in existence; must be 0 after unload. */
static atomic_t llamux_live_reqs = ATOMIC_INIT(0);

static void llamux_req_release(struct kref *ref)
{
	struct llamux_req *req = container_of(ref, struct llamux_req, ref);

	kvfree(req->payload);
	kvfree(req->answer);
	kfree(req);
	atomic_dec(&llamux_live_reqs);
}

static void llamux_req_put(struct llamux_req *req)
{
	kref_put(&req->ref, llamux_req_release);
}

static unsigned int llamux_outstanding(void)
{
	return lx.nr_pending + lx.nr_inflight + lx.nr_writing;
}

static struct llamux_user *llamux_user_find(kuid_t uid)
{
	struct llamux_user *user;

	hash_for_each_possible(lx.users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

static struct llamux_user *llamux_user_get(kuid_t uid)
{
	struct llamux_user *user = llamux_user_find(uid);

	if (user)
		return user;
	user = kzalloc(sizeof(*user), GFP_KERNEL);
	if (!user)
		return NULL;
	user->uid = uid;
	hash_add(lx.users, &user->node, __kuid_val(uid));
	return user;
}

/* Appends to the answer; limit bounds the resulting length. */
static int llamux_answer_append(struct llamux_req *req, const char *data,
				size_t len, size_t limit)
{
	size_t need = req->answer_len + len;

	if (need > limit)
		return -EFBIG;
	if (need > req->answer_cap) {
		size_t cap = max_t(size_t, roundup_pow_of_two(need), 256);
		char *grown = kvmalloc(cap, GFP_KERNEL);

		if (!grown)
			return -ENOMEM;
		if (req->answer_len)
			memcpy(grown, req->answer, req->answer_len);
		kvfree(req->answer);
		req->answer = grown;
		req->answer_cap = cap;
	}
	memcpy(req->answer + req->answer_len, data, len);
	WRITE_ONCE(req->answer_len, need);
	return 0;
}

/*
 * Ends the answer.  A message becomes a last line "llamux: <msg>" of the
 * text, on a line of its own, so that `cat generate` shows it before EOF.
 */
static void llamux_finish(struct llamux_req *req, const char *msg,
			  size_t msg_len)
{
	static const char prefix[] = "llamux: ";

	if (req->finished)
		return;
	if (msg) {
		/* Errors may exceed max_answer_bytes by one short line. */
		size_t limit = SIZE_MAX;

		if (req->answer_len && req->answer[req->answer_len - 1] != '\n')
			llamux_answer_append(req, "\n", 1, limit);
		llamux_answer_append(req, prefix, sizeof(prefix) - 1, limit);
		llamux_answer_append(req, msg, msg_len, limit);
		llamux_answer_append(req, "\n", 1, limit);
	}
	WRITE_ONCE(req->finished, true);
	wake_up_all(&req->wait);
}

static void llamux_finish_str(struct llamux_req *req, const char *msg)
{
	llamux_finish(req, msg, strlen(msg));
}

/*
 * Stops a request that has not finished: a queued one leaves the queue, one
 * the daemon is working on gets a CANCEL and stays in flight until the
 * daemon acknowledges it with DONE or ERROR.  Returns true if it stopped
 * anything.  The caller holds lx.lock and its own reference.
 */
static bool llamux_cancel(struct llamux_req *req, const char *msg)
{
	switch (req->state) {
	case LLAMUX_REQ_QUEUED:
		list_del_init(&req->node);
		WRITE_ONCE(lx.nr_pending, lx.nr_pending - 1);
		req->state = LLAMUX_REQ_DONE;
		llamux_finish_str(req, msg);
		llamux_req_put(req);	/* the queue's reference */
		return true;
	case LLAMUX_REQ_TAKEN:
		req->state = LLAMUX_REQ_CANCELLING;
		llamux_finish_str(req, msg);
		kref_get(&req->ref);
		list_add_tail(&req->cancel_node, &lx.cancels);
		WRITE_ONCE(lx.nr_cancels, lx.nr_cancels + 1);
		wake_up(&lx.daemon_wait);
		pr_debug("request %llu cancelled: %s\n", req->id, msg);
		return true;
	default:
		return false;
	}
}

/* Takes a TAKEN or CANCELLING request off the in-flight list for good. */
static void llamux_retire(struct llamux_req *req)
{
	if (!list_empty(&req->cancel_node)) {
		list_del_init(&req->cancel_node);
		WRITE_ONCE(lx.nr_cancels, lx.nr_cancels - 1);
		llamux_req_put(req);
	}
	list_del_init(&req->node);
	lx.nr_inflight--;
	req->state = LLAMUX_REQ_DONE;
	llamux_req_put(req);		/* the in-flight list's reference */
}

static struct llamux_req *llamux_inflight_find(u64 id)
{
	struct llamux_req *req;

	list_for_each_entry(req, &lx.inflight, node)
		if (req->id == id)
			return req;
	return NULL;
}

/* ---- /proc/llamux/prompt ------------------------------------------- */

struct llamux_prompt_writer {
	struct mutex lock;		/* writes to one file may race */
	kuid_t uid;
	kgid_t gid;
	pid_t pid;
	char *buf;
	size_t len;
	size_t cap;
	bool too_big;			/* EFBIG happened: submit nothing */
};

/*
 * Opening reserves a queue slot, so a full queue fails here, not silently at
 * close.
 */
static int llamux_prompt_open(struct inode *inode, struct file *file)
{
	struct llamux_prompt_writer *pw;
	int ret = 0;

	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) != FMODE_WRITE)
		return -EINVAL;
	pw = kzalloc(sizeof(*pw), GFP_KERNEL);
	if (!pw)
		return -ENOMEM;
	mutex_init(&pw->lock);
	pw->uid = file->f_cred->fsuid;
	pw->gid = file->f_cred->fsgid;
	pw->pid = task_tgid_nr(current);

	mutex_lock(&lx.lock);
	if (lx.dying) {
		ret = -ENODEV;
	} else if (llamux_outstanding() >= max_queue) {
		lx.count.rejected++;
		ret = -EBUSY;
	} else {
		lx.nr_writing++;
	}
	mutex_unlock(&lx.lock);
	if (ret) {
		kfree(pw);
		return ret;
	}
	file->private_data = pw;
	return nonseekable_open(inode, file);
}

static ssize_t llamux_prompt_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct llamux_prompt_writer *pw = file->private_data;
	ssize_t ret = count;

	mutex_lock(&pw->lock);
	if (pw->too_big || count > max_prompt_bytes - pw->len) {
		/* None of this prompt is submitted: no silent truncation. */
		pw->too_big = true;
		ret = -EFBIG;
		goto out;
	}
	if (pw->len + count > pw->cap) {
		size_t cap = max_t(size_t, 2 * pw->cap, pw->len + count);
		char *grown;

		cap = min_t(size_t, cap, max_prompt_bytes);
		grown = kvmalloc(max_t(size_t, cap, 1), GFP_KERNEL);
		if (!grown) {
			ret = -ENOMEM;
			goto out;
		}
		if (pw->len)
			memcpy(grown, pw->buf, pw->len);
		kvfree(pw->buf);
		pw->buf = grown;
		pw->cap = cap;
	}
	if (copy_from_user(pw->buf + pw->len, ubuf, count)) {
		ret = -EFAULT;
		goto out;
	}
	pw->len += count;
out:
	mutex_unlock(&pw->lock);
	return ret;
}

static struct llamux_req *llamux_req_new(struct llamux_prompt_writer *pw,
					 const struct llamux_user *user)
{
	struct llamux_req *req = kzalloc(sizeof(*req), GFP_KERNEL);
	u32 settings_len = user ? user->settings_len : 0;

	if (!req)
		return NULL;
	req->payload = kvmalloc(settings_len + pw->len, GFP_KERNEL);
	if (!req->payload) {
		kfree(req);
		return NULL;
	}
	if (settings_len)
		memcpy(req->payload, user->settings, settings_len);
	memcpy(req->payload + settings_len, pw->buf, pw->len);
	req->settings_len = settings_len;
	req->payload_len = settings_len + pw->len;
	kref_init(&req->ref);
	req->uid = pw->uid;
	req->gid = pw->gid;
	req->pid = pw->pid;
	INIT_LIST_HEAD(&req->node);
	INIT_LIST_HEAD(&req->cancel_node);
	init_waitqueue_head(&req->wait);
	atomic_inc(&llamux_live_reqs);
	return req;
}

/* Queues the prompt as its user's latest request.  Called with lx.lock held. */
static void llamux_submit(struct llamux_prompt_writer *pw)
{
	struct llamux_user *user = llamux_user_get(pw->uid);
	struct llamux_req *req = user ? llamux_req_new(pw, user) : NULL;

	if (!req) {
		lx.count.rejected++;
		pr_warn_ratelimited("out of memory: dropped a %zu-byte prompt\n",
				    pw->len);
		return;
	}
	req->id = ++lx.next_id;
	if (user->latest) {
		if (llamux_cancel(user->latest, "superseded by a newer prompt"))
			lx.count.superseded++;
		llamux_req_put(user->latest);
	}
	user->latest = req;		/* the initial reference */
	kref_get(&req->ref);
	list_add_tail(&req->node, &lx.pending);
	WRITE_ONCE(lx.nr_pending, lx.nr_pending + 1);
	lx.count.submitted++;
	wake_up(&lx.daemon_wait);
	pr_debug("request %llu queued: uid %u, %u settings + %zu prompt bytes\n",
		 req->id, from_kuid_munged(&init_user_ns, req->uid),
		 req->settings_len, pw->len);
}

/* The prompt is submitted when its writer closes the file. */
static int llamux_prompt_release(struct inode *inode, struct file *file)
{
	struct llamux_prompt_writer *pw = file->private_data;

	mutex_lock(&lx.lock);
	lx.nr_writing--;
	if (!lx.dying && !pw->too_big && pw->len)
		llamux_submit(pw);
	mutex_unlock(&lx.lock);
	kvfree(pw->buf);
	kfree(pw);
	return 0;
}

static const struct proc_ops llamux_prompt_ops = {
	.proc_open	= llamux_prompt_open,
	.proc_write	= llamux_prompt_write,
	.proc_release	= llamux_prompt_release,
};

/* ---- /proc/llamux/generate ----------------------------------------- */

/*
 * An open generate file follows the latest request its opener's fsuid had
 * at open time.  No poll here: procfs may release the file under a sleeping
 * poller at unload, which would leave it on a freed wait queue.
 */
static int llamux_generate_open(struct inode *inode, struct file *file)
{
	struct llamux_user *user;
	struct llamux_req *req = NULL;
	int ret = 0;

	mutex_lock(&lx.lock);
	if (lx.dying) {
		ret = -ENODEV;
	} else {
		user = llamux_user_find(file->f_cred->fsuid);
		if (user && user->latest) {
			req = user->latest;
			kref_get(&req->ref);
		}
	}
	mutex_unlock(&lx.lock);
	if (ret)
		return ret;
	file->private_data = req;
	return nonseekable_open(inode, file);
}

/* Lockless peek for the wait: the answer is re-checked under lx.lock. */
static bool llamux_answer_ready(struct llamux_req *req, loff_t pos)
{
	return READ_ONCE(req->answer_len) > (size_t)pos ||
	       READ_ONCE(req->finished);
}

static ssize_t llamux_generate_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct llamux_req *req = file->private_data;
	char *bounce;
	size_t n;
	int ret;

	if (!req || !count)
		return 0;
	for (;;) {
		mutex_lock(&lx.lock);
		if ((size_t)*ppos < req->answer_len)
			break;
		if (req->finished) {
			mutex_unlock(&lx.lock);
			return 0;
		}
		mutex_unlock(&lx.lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(req->wait,
					       llamux_answer_ready(req, *ppos));
		if (ret) {
			/* Only a dying reader stops the work. */
			if (fatal_signal_pending(current)) {
				mutex_lock(&lx.lock);
				if (llamux_cancel(req, "cancelled"))
					lx.count.cancelled++;
				mutex_unlock(&lx.lock);
			}
			return ret;
		}
	}
	/* Holding lx.lock: copy to a bounce buffer, never to user memory. */
	n = min3(count, req->answer_len - (size_t)*ppos,
		 (size_t)LLAMUX_READ_CHUNK);
	bounce = kmalloc(n, GFP_KERNEL);
	if (bounce)
		memcpy(bounce, req->answer + *ppos, n);
	mutex_unlock(&lx.lock);
	if (!bounce)
		return -ENOMEM;
	if (copy_to_user(ubuf, bounce, n)) {
		kfree(bounce);
		return -EFAULT;
	}
	kfree(bounce);
	*ppos += n;
	return n;
}

static int llamux_generate_release(struct inode *inode, struct file *file)
{
	struct llamux_req *req = file->private_data;

	if (req)
		llamux_req_put(req);
	return 0;
}

static const struct proc_ops llamux_generate_ops = {
	.proc_open	= llamux_generate_open,
	.proc_read	= llamux_generate_read,
	.proc_release	= llamux_generate_release,
};

/* ---- /proc/llamux/config ------------------------------------------- */

struct llamux_config_file {
	struct mutex lock;		/* writes to one file may race */
	kuid_t uid;
	char *snapshot;			/* the settings at open, for reads */
	size_t snapshot_len;
	char *buf;			/* what was written, set on close */
	size_t len;
	bool writing;
	bool too_big;
};

static int llamux_config_open(struct inode *inode, struct file *file)
{
	struct llamux_config_file *cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	struct llamux_user *user;
	int ret = 0;

	if (!cf)
		return -ENOMEM;
	mutex_init(&cf->lock);
	cf->uid = file->f_cred->fsuid;
	if (file->f_mode & FMODE_WRITE) {
		cf->writing = true;
		cf->buf = kmalloc(LLAMUX_MAX_SETTINGS, GFP_KERNEL);
		if (!cf->buf)
			ret = -ENOMEM;
	}
	mutex_lock(&lx.lock);
	if (lx.dying)
		ret = -ENODEV;
	user = llamux_user_find(cf->uid);
	if (!ret && (file->f_mode & FMODE_READ) && user && user->settings_len) {
		cf->snapshot = kmemdup(user->settings, user->settings_len,
				       GFP_KERNEL);
		if (cf->snapshot)
			cf->snapshot_len = user->settings_len;
		else
			ret = -ENOMEM;
	}
	mutex_unlock(&lx.lock);
	if (ret) {
		kfree(cf->buf);
		kfree(cf);
		return ret;
	}
	file->private_data = cf;
	return 0;
}

static ssize_t llamux_config_read(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct llamux_config_file *cf = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, cf->snapshot,
				       cf->snapshot_len);
}

static ssize_t llamux_config_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct llamux_config_file *cf = file->private_data;
	ssize_t ret = count;

	mutex_lock(&cf->lock);
	if (cf->too_big || count > LLAMUX_MAX_SETTINGS - cf->len) {
		cf->too_big = true;
		ret = -EFBIG;
	} else if (copy_from_user(cf->buf + cf->len, ubuf, count)) {
		ret = -EFAULT;
	} else {
		cf->len += count;
	}
	mutex_unlock(&cf->lock);
	return ret;
}

/*
 * What was written replaces the user's settings on close; a writer that
 * wrote nothing clears them.
 */
static int llamux_config_release(struct inode *inode, struct file *file)
{
	struct llamux_config_file *cf = file->private_data;
	struct llamux_user *user;

	if (cf->writing && !cf->too_big) {
		mutex_lock(&lx.lock);
		user = llamux_user_get(cf->uid);
		if (user) {
			kfree(user->settings);
			user->settings = cf->len ? cf->buf : NULL;
			user->settings_len = cf->len;
			if (cf->len)
				cf->buf = NULL;
		}
		mutex_unlock(&lx.lock);
	}
	kfree(cf->buf);
	kfree(cf->snapshot);
	kfree(cf);
	return 0;
}

static const struct proc_ops llamux_config_ops = {
	.proc_open	= llamux_config_open,
	.proc_read	= llamux_config_read,
	.proc_write	= llamux_config_write,
	.proc_release	= llamux_config_release,
	.proc_lseek	= default_llseek,
};

/* ---- /proc/llamux/status ------------------------------------------- */

static int llamux_status_show(struct seq_file *m, void *v)
{
	struct llamux_user *user;
	struct llamux_req *req;

	mutex_lock(&lx.lock);
	if (lx.daemon_attached)
		seq_printf(m, "daemon: attached, pid %d, %s\n", lx.daemon_pid,
			   lx.hello ? "ready" : "handshake pending");
	else
		seq_puts(m, "daemon: not attached\n");
	seq_printf(m, "protocol: %u\n", LLAMUX_PROTO_VERSION);
	seq_printf(m, "queue: %u waiting, %u answering, %u being written, limit %u\n",
		   lx.nr_pending, lx.nr_inflight, lx.nr_writing, max_queue);
	seq_printf(m, "requests: %llu submitted, %llu answered, %llu failed, %llu cancelled, %llu superseded, %llu aborted, %llu rejected\n",
		   lx.count.submitted, lx.count.answered, lx.count.failed,
		   lx.count.cancelled, lx.count.superseded, lx.count.aborted,
		   lx.count.rejected);
	seq_printf(m, "live requests: %d\n", atomic_read(&llamux_live_reqs));
	seq_printf(m, "limits: prompt %u bytes, answer %u bytes\n",
		   max_prompt_bytes, max_answer_bytes);
	seq_printf(m, "answers: %llu prompt tokens, %llu generated tokens in total",
		   lx.total.prompt_tokens, lx.total.generated_tokens);
	if (lx.total.timed_ms) {
		u64 mtps = div64_u64(lx.total.timed_tokens * 1000000,
				     lx.total.timed_ms);

		seq_printf(m, ", %llu.%03llu tokens/s on average",
			   div_u64(mtps, 1000), mtps % 1000);
	}
	seq_putc(m, '\n');
	/* Per request figures only for the reader's own request. */
	user = llamux_user_find(m->file->f_cred->fsuid);
	req = user ? user->latest : NULL;
	if (req) {
		seq_printf(m, "your request: %llu, %s, %zu answer bytes",
			   req->id, llamux_state_names[req->state],
			   req->answer_len);
		if (req->counted)
			seq_printf(m, ", %u prompt tokens, %u generated tokens",
				   req->prompt_tokens, req->generated_tokens);
		seq_putc(m, '\n');
	} else {
		seq_puts(m, "your request: none\n");
	}
	if (lx.daemon_status_len) {
		seq_puts(m, "daemon status:\n");
		seq_write(m, lx.daemon_status, lx.daemon_status_len);
		if (lx.daemon_status[lx.daemon_status_len - 1] != '\n')
			seq_putc(m, '\n');
	}
	mutex_unlock(&lx.lock);
	return 0;
}

static int llamux_status_open(struct inode *inode, struct file *file)
{
	return single_open(file, llamux_status_show, NULL);
}

static const struct proc_ops llamux_status_ops = {
	.proc_open	= llamux_status_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

/* ---- /dev/llamux: the daemon's side --------------------------------- */

static int llamux_dev_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	mutex_lock(&lx.lock);
	if (lx.dying) {
		ret = -ENODEV;
	} else if (lx.daemon_attached) {
		ret = -EBUSY;
	} else {
		lx.daemon_attached = true;
		WRITE_ONCE(lx.hello, false);
		lx.daemon_pid = task_tgid_nr(current);
	}
	mutex_unlock(&lx.lock);
	if (ret)
		return ret;
	pr_info("daemon attached (pid %d)\n", task_tgid_nr(current));
	return stream_open(inode, file);
}

/*
 * Requests the daemon had started end with an error their readers see.  Ones
 * it had read but not started go back to the head of the queue, in their
 * order, and wait with the queued ones for the next daemon: nothing a reader
 * still waits for is lost.  A request that killed the daemon while being
 * worked on is not retried, since the daemon marks it started first.
 */
static int llamux_dev_release(struct inode *inode, struct file *file)
{
	struct llamux_req *req, *tmp;
	unsigned int aborted = 0, returned = 0, kept;
	LIST_HEAD(unstarted);
	pid_t pid;

	mutex_lock(&lx.lock);
	list_for_each_entry_safe(req, tmp, &lx.inflight, node) {
		if (req->state == LLAMUX_REQ_TAKEN && !req->started) {
			/* The in-flight list's reference moves with it. */
			list_move_tail(&req->node, &unstarted);
			lx.nr_inflight--;
			req->state = LLAMUX_REQ_QUEUED;
			returned++;
			continue;
		}
		if (req->state == LLAMUX_REQ_TAKEN) {
			llamux_finish_str(req, "daemon exited");
			aborted++;
		}
		llamux_retire(req);
	}
	list_splice(&unstarted, &lx.pending);
	WRITE_ONCE(lx.nr_pending, lx.nr_pending + returned);
	lx.count.aborted += aborted;
	kept = lx.nr_pending;
	pid = lx.daemon_pid;
	lx.daemon_attached = false;
	WRITE_ONCE(lx.hello, false);
	kfree(lx.daemon_status);
	lx.daemon_status = NULL;
	lx.daemon_status_len = 0;
	mutex_unlock(&lx.lock);
	pr_info("daemon detached (pid %d): %u in-flight requests ended with an error, %u queued requests kept for the next daemon (%u of them read but not started)\n",
		pid, aborted, kept, returned);
	return 0;
}

static bool llamux_has_work(void)
{
	return READ_ONCE(lx.nr_cancels) || READ_ONCE(lx.nr_pending);
}

static void llamux_fill_hdr(struct llamux_req_hdr *hdr, u16 type,
			    const struct llamux_req *req, u32 length)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = cpu_to_le32(LLAMUX_MAGIC);
	hdr->version = cpu_to_le16(LLAMUX_PROTO_VERSION);
	hdr->type = cpu_to_le16(type);
	hdr->length = cpu_to_le32(length);
	hdr->id = cpu_to_le64(req->id);
	hdr->uid = cpu_to_le32(from_kuid_munged(&init_user_ns, req->uid));
	hdr->gid = cpu_to_le32(from_kgid_munged(&init_user_ns, req->gid));
	hdr->pid = cpu_to_le32(req->pid);
	if (type == LLAMUX_MSG_REQUEST)
		hdr->settings_len = cpu_to_le32(req->settings_len);
}

/* Sends an owed CANCEL.  Called with lx.lock held; drops it. */
static ssize_t llamux_send_cancel(char __user *ubuf, size_t count)
{
	struct llamux_req *req;
	struct llamux_req_hdr hdr;

	if (count < sizeof(hdr)) {
		mutex_unlock(&lx.lock);
		return -EINVAL;
	}
	req = list_first_entry(&lx.cancels, struct llamux_req, cancel_node);
	list_del_init(&req->cancel_node);	/* its reference is now ours */
	WRITE_ONCE(lx.nr_cancels, lx.nr_cancels - 1);
	mutex_unlock(&lx.lock);

	llamux_fill_hdr(&hdr, LLAMUX_MSG_CANCEL, req, 0);
	if (copy_to_user(ubuf, &hdr, sizeof(hdr))) {
		/* The daemon never saw it: owed again, first in line. */
		mutex_lock(&lx.lock);
		if (req->state == LLAMUX_REQ_CANCELLING &&
		    list_empty(&req->cancel_node)) {
			list_add(&req->cancel_node, &lx.cancels);
			WRITE_ONCE(lx.nr_cancels, lx.nr_cancels + 1);
		} else {
			llamux_req_put(req);
		}
		mutex_unlock(&lx.lock);
		return -EFAULT;
	}
	mutex_lock(&lx.lock);
	llamux_req_put(req);
	mutex_unlock(&lx.lock);
	return sizeof(hdr);
}

/*
 * Hands the oldest queued request to the daemon.  Called with lx.lock held;
 * drops it.
 */
static ssize_t llamux_send_request(char __user *ubuf, size_t count)
{
	struct llamux_req *req;
	struct llamux_req_hdr hdr;
	size_t size;

	req = list_first_entry(&lx.pending, struct llamux_req, node);
	size = sizeof(hdr) + req->payload_len;
	if (count < size) {
		mutex_unlock(&lx.lock);
		return -EINVAL;
	}
	list_move_tail(&req->node, &lx.inflight);
	WRITE_ONCE(lx.nr_pending, lx.nr_pending - 1);
	lx.nr_inflight++;
	req->state = LLAMUX_REQ_TAKEN;
	kref_get(&req->ref);
	mutex_unlock(&lx.lock);

	/* The payload is immutable and our reference keeps it alive. */
	llamux_fill_hdr(&hdr, LLAMUX_MSG_REQUEST, req, req->payload_len);
	if (copy_to_user(ubuf, &hdr, sizeof(hdr)) ||
	    copy_to_user(ubuf + sizeof(hdr), req->payload, req->payload_len)) {
		/* The daemon never saw it: back to the head of the queue. */
		mutex_lock(&lx.lock);
		if (req->state == LLAMUX_REQ_TAKEN) {
			list_move(&req->node, &lx.pending);
			lx.nr_inflight--;
			WRITE_ONCE(lx.nr_pending, lx.nr_pending + 1);
			req->state = LLAMUX_REQ_QUEUED;
		} else if (req->state == LLAMUX_REQ_CANCELLING) {
			llamux_retire(req);
		}
		mutex_unlock(&lx.lock);
		llamux_req_put(req);
		return -EFAULT;
	}
	pr_debug("request %llu taken by the daemon (%zu bytes)\n",
		 req->id, size);
	llamux_req_put(req);
	return size;
}

static ssize_t llamux_dev_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	ssize_t ret;

	for (;;) {
		mutex_lock(&lx.lock);
		if (!lx.hello) {
			mutex_unlock(&lx.lock);
			return -EPROTO;
		}
		/* CANCELs go first so that work stops as soon as possible. */
		if (!list_empty(&lx.cancels) || !list_empty(&lx.pending)) {
			if (!list_empty(&lx.cancels))
				ret = llamux_send_cancel(ubuf, count);
			else
				ret = llamux_send_request(ubuf, count);
			/* Don't lose an exclusive wakeup on a failed read. */
			if (ret < 0 && llamux_has_work())
				wake_up(&lx.daemon_wait);
			return ret;
		}
		mutex_unlock(&lx.lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible_exclusive(lx.daemon_wait,
							 llamux_has_work());
		if (ret)
			return ret;
	}
}

static __poll_t llamux_dev_poll(struct file *file,
				struct poll_table_struct *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &lx.daemon_wait, wait);
	if (READ_ONCE(lx.hello) && llamux_has_work())
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int llamux_hello(const struct llamux_reply_hdr *hdr,
			const void *payload, u32 len)
{
	const struct llamux_hello *hello = payload;
	u32 version;

	if (len != sizeof(*hello) || hdr->id || hello->flags) {
		pr_warn_ratelimited("protocol error: malformed HELLO\n");
		return -EINVAL;
	}
	version = le32_to_cpu(hello->version);
	if (version != LLAMUX_PROTO_VERSION ||
	    le16_to_cpu(hdr->version) != LLAMUX_PROTO_VERSION) {
		pr_warn_ratelimited("daemon (pid %d) speaks protocol version %u, this module speaks %u: refused\n",
				    task_tgid_nr(current), version,
				    LLAMUX_PROTO_VERSION);
		return -EPROTO;
	}
	mutex_lock(&lx.lock);
	if (lx.hello) {
		mutex_unlock(&lx.lock);
		pr_warn_ratelimited("protocol error: second HELLO\n");
		return -EINVAL;
	}
	WRITE_ONCE(lx.hello, true);
	/* A daemon thread may already sleep in poll() or read(). */
	wake_up_all(&lx.daemon_wait);
	mutex_unlock(&lx.lock);
	pr_info("daemon (pid %d) handshake done, protocol %u\n",
		task_tgid_nr(current), LLAMUX_PROTO_VERSION);
	return 0;
}

static int llamux_reply_token(struct llamux_req *req, const char *text, u32 len)
{
	int ret;

	req->started = true;
	/* Cancelled, and the daemon has not seen the CANCEL yet: drop it. */
	if (req->state != LLAMUX_REQ_TAKEN || !len)
		return 0;
	ret = llamux_answer_append(req, text, len, max_answer_bytes);
	if (ret == -EFBIG) {
		llamux_cancel(req, "answer too long");
		lx.count.failed++;
		return 0;
	}
	if (ret) {
		llamux_cancel(req, "out of memory");
		lx.count.failed++;
		return ret;
	}
	wake_up_all(&req->wait);
	return 0;
}

static int llamux_reply_done(struct llamux_req *req, const void *payload,
			     u32 len)
{
	const struct llamux_done *done = payload;

	if (len != sizeof(*done))
		return -EINVAL;
	if (le32_to_cpu(done->stop_reason) > LLAMUX_STOP_CANCEL) {
		pr_warn_ratelimited("protocol error: DONE with unknown stop_reason %u\n",
				    le32_to_cpu(done->stop_reason));
		return -EINVAL;
	}
	if (req->state == LLAMUX_REQ_TAKEN) {
		u32 mtps = le32_to_cpu(done->millitokens_per_sec);

		req->prompt_tokens = le32_to_cpu(done->prompt_tokens);
		req->generated_tokens = le32_to_cpu(done->generated_tokens);
		req->counted = true;
		lx.total.prompt_tokens += req->prompt_tokens;
		lx.total.generated_tokens += req->generated_tokens;
		if (mtps && req->generated_tokens) {
			lx.total.timed_tokens += req->generated_tokens;
			lx.total.timed_ms += max_t(u64, 1,
				div_u64((u64)req->generated_tokens * 1000000,
					mtps));
		}
		lx.count.answered++;
		llamux_finish(req, NULL, 0);
	}
	pr_debug("request %llu done, %zu answer bytes\n",
		 req->id, req->answer_len);
	llamux_retire(req);
	return 0;
}

static int llamux_reply_error(struct llamux_req *req, const char *msg, u32 len)
{
	static const char no_reason[] = "the daemon gave no reason";

	len = min_t(u32, len, LLAMUX_MAX_ERROR);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\0'))
		len--;
	/* An empty message must not read as a clean end of the answer. */
	if (!len) {
		msg = no_reason;
		len = sizeof(no_reason) - 1;
	}
	if (req->state == LLAMUX_REQ_TAKEN) {
		lx.count.failed++;
		llamux_finish(req, msg, len);
	}
	pr_debug("request %llu failed (%u-byte message)\n", req->id, len);
	llamux_retire(req);
	return 0;
}

static int llamux_reply_status(const char *text, u32 len)
{
	char *copy = NULL;

	if (len > LLAMUX_MAX_STATUS)
		return -EINVAL;
	if (len) {
		copy = kmemdup(text, len, GFP_KERNEL);
		if (!copy)
			return -ENOMEM;
	}
	kfree(lx.daemon_status);
	lx.daemon_status = copy;
	lx.daemon_status_len = len;
	return 0;
}

/* Applies one validated reply.  Called with lx.lock held. */
static int llamux_apply_reply(u16 type, u64 id, const char *payload, u32 len)
{
	struct llamux_req *req;

	if (type == LLAMUX_MSG_STATUS) {
		if (id) {
			pr_warn_ratelimited("protocol error: STATUS with id %llu\n",
					    id);
			return -EINVAL;
		}
		return llamux_reply_status(payload, len);
	}
	if (type != LLAMUX_MSG_TOKEN && type != LLAMUX_MSG_DONE &&
	    type != LLAMUX_MSG_ERROR) {
		pr_warn_ratelimited("protocol error: unknown message type %u\n",
				    type);
		return -EINVAL;
	}
	req = llamux_inflight_find(id);
	if (!req) {
		pr_warn_ratelimited("protocol error: reply type %u for unknown request %llu\n",
				    type, id);
		return -ENOENT;
	}
	switch (type) {
	case LLAMUX_MSG_TOKEN:
		return llamux_reply_token(req, payload, len);
	case LLAMUX_MSG_DONE:
		if (len != sizeof(struct llamux_done)) {
			pr_warn_ratelimited("protocol error: DONE with %u payload bytes\n",
					    len);
			return -EINVAL;
		}
		return llamux_reply_done(req, payload, len);
	default:
		return llamux_reply_error(req, payload, len);
	}
}

static ssize_t llamux_dev_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct llamux_reply_hdr hdr;
	void *payload = NULL;
	u32 len;
	u16 type;
	int ret;

	if (count < sizeof(hdr)) {
		pr_warn_ratelimited("protocol error: %zu-byte write is shorter than a header\n",
				    count);
		return -EINVAL;
	}
	if (copy_from_user(&hdr, ubuf, sizeof(hdr)))
		return -EFAULT;
	len = le32_to_cpu(hdr.length);
	type = le16_to_cpu(hdr.type);
	if (le32_to_cpu(hdr.magic) != LLAMUX_MAGIC) {
		pr_warn_ratelimited("protocol error: bad magic %#x\n",
				    le32_to_cpu(hdr.magic));
		return -EINVAL;
	}
	if (len > LLAMUX_MAX_PAYLOAD) {
		pr_warn_ratelimited("protocol error: payload length %u over the %u limit\n",
				    len, LLAMUX_MAX_PAYLOAD);
		return -EINVAL;
	}
	if (len != count - sizeof(hdr)) {
		pr_warn_ratelimited("protocol error: header says %u payload bytes, write has %zu\n",
				    len, count - sizeof(hdr));
		return -EINVAL;
	}
	if (hdr.flags) {
		pr_warn_ratelimited("protocol error: reserved flags %#x set\n",
				    le32_to_cpu(hdr.flags));
		return -EINVAL;
	}
	if (len) {
		payload = vmemdup_user(ubuf + sizeof(hdr), len);
		if (IS_ERR(payload))
			return PTR_ERR(payload);
	}
	if (type == LLAMUX_MSG_HELLO) {
		ret = llamux_hello(&hdr, payload, len);
		goto out;
	}
	if (le16_to_cpu(hdr.version) != LLAMUX_PROTO_VERSION) {
		pr_warn_ratelimited("protocol error: message version %u\n",
				    le16_to_cpu(hdr.version));
		ret = -EINVAL;
		goto out;
	}
	mutex_lock(&lx.lock);
	if (lx.hello)
		ret = llamux_apply_reply(type, le64_to_cpu(hdr.id), payload,
					 len);
	else
		ret = -EPROTO;
	mutex_unlock(&lx.lock);
out:
	kvfree(payload);
	return ret ? ret : count;
}

static const struct file_operations llamux_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= llamux_dev_open,
	.release	= llamux_dev_release,
	.read		= llamux_dev_read,
	.write		= llamux_dev_write,
	.poll		= llamux_dev_poll,
};

static struct miscdevice llamux_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "llamux",
	.fops	= &llamux_dev_fops,
	.mode	= 0600,
};

/* ---- load and unload ----------------------------------------------- */

static int __init llamux_init(void)
{
	int ret;

	/* The daemon's side mirrors these sizes (io.llamux.daemon.Wire). */
	BUILD_BUG_ON(sizeof(struct llamux_req_hdr) != 40);
	BUILD_BUG_ON(sizeof(struct llamux_reply_hdr) != 24);
	BUILD_BUG_ON(sizeof(struct llamux_hello) != 8);
	BUILD_BUG_ON(sizeof(struct llamux_done) != 16);

	if (!max_prompt_bytes || max_prompt_bytes > LLAMUX_MAX_PROMPT) {
		pr_err("max_prompt_bytes must be 1..%u\n", LLAMUX_MAX_PROMPT);
		return -EINVAL;
	}
	if (!max_queue || !max_answer_bytes) {
		pr_err("max_queue and max_answer_bytes must be positive\n");
		return -EINVAL;
	}
	mutex_init(&lx.lock);
	INIT_LIST_HEAD(&lx.pending);
	INIT_LIST_HEAD(&lx.inflight);
	INIT_LIST_HEAD(&lx.cancels);
	init_waitqueue_head(&lx.daemon_wait);
	hash_init(lx.users);

	/*
	 * prompt and config are writable by everyone on purpose: all state
	 * behind them is per fsuid, so a user only ever touches their own.
	 */
	lx.proc_dir = proc_mkdir("llamux", NULL);
	if (!lx.proc_dir)
		return -ENOMEM;
	if (!proc_create("prompt", 0222, lx.proc_dir, &llamux_prompt_ops) ||
	    !proc_create("generate", 0444, lx.proc_dir, &llamux_generate_ops) ||
	    !proc_create("config", 0666, lx.proc_dir, &llamux_config_ops) ||
	    !proc_create("status", 0444, lx.proc_dir, &llamux_status_ops)) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = misc_register(&llamux_misc);
	if (ret)
		goto fail;
	pr_info("loaded: protocol %u, max_prompt_bytes=%u max_queue=%u max_answer_bytes=%u\n",
		LLAMUX_PROTO_VERSION, max_prompt_bytes, max_queue,
		max_answer_bytes);
	return 0;
fail:
	proc_remove(lx.proc_dir);
	return ret;
}

static void __exit llamux_exit(void)
{
	struct llamux_req *req, *tmp;
	struct llamux_user *user;
	struct hlist_node *htmp;
	int bkt, leaked;

	/* No daemon is attached: its open file holds a module reference. */
	misc_deregister(&llamux_misc);

	/* End every answer so blocked readers return... */
	mutex_lock(&lx.lock);
	lx.dying = true;
	hash_for_each(lx.users, bkt, user, node)
		if (user->latest)
			llamux_finish_str(user->latest, "module unloaded");
	mutex_unlock(&lx.lock);

	/* ...then procfs waits for them and releases every open file. */
	proc_remove(lx.proc_dir);

	list_for_each_entry_safe(req, tmp, &lx.pending, node) {
		list_del_init(&req->node);
		llamux_req_put(req);
	}
	hash_for_each_safe(lx.users, bkt, htmp, user, node) {
		hash_del(&user->node);
		if (user->latest)
			llamux_req_put(user->latest);
		kfree(user->settings);
		kfree(user);
	}
	kfree(lx.daemon_status);
	WARN_ON(!list_empty(&lx.inflight) || !list_empty(&lx.cancels));
	leaked = atomic_read(&llamux_live_reqs);
	WARN(leaked, "llamux: %d request objects leaked at unload\n", leaked);
	pr_info("unloaded\n");
}

module_init(llamux_init);
module_exit(llamux_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Large language models behind /proc/llamux, answered by a user-space daemon through /dev/llamux");
MODULE_AUTHOR("Llamux developers");
