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
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

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
/* max_answer_bytes and keep_answer_secs are clamped to these. */
#define LLAMUX_MAX_ANSWER	(16U * 1024 * 1024)
#define LLAMUX_MAX_KEEP_SECS	(7U * 24 * 3600)

static unsigned int max_prompt_bytes = 64 * 1024;
module_param(max_prompt_bytes, uint, 0444);
MODULE_PARM_DESC(max_prompt_bytes, "Largest prompt in bytes; larger writes fail with EFBIG (default 65536)");

static unsigned int max_queue = 64;
module_param(max_queue, uint, 0444);
MODULE_PARM_DESC(max_queue, "Prompts queued or being answered at once, of all users; more fail with EBUSY (default 64)");

static unsigned int max_queue_per_uid = 4;
module_param(max_queue_per_uid, uint, 0444);
MODULE_PARM_DESC(max_queue_per_uid, "Prompts one uid may have queued or being answered (cancelled ones until the daemon confirms); more fail with EBUSY (default 4)");

static unsigned int max_answer_bytes = 1024 * 1024;
module_param(max_answer_bytes, uint, 0444);
MODULE_PARM_DESC(max_answer_bytes, "Longest answer kept in bytes, at most 16 MiB; longer answers are cut with an error (default 1 MiB)");

static unsigned int max_user_bytes = 4 * 1024 * 1024;
module_param(max_user_bytes, uint, 0444);
MODULE_PARM_DESC(max_user_bytes, "Kernel memory one uid may hold (prompts, answers, settings, open files); beyond it EDQUOT (default 4 MiB)");

static unsigned int max_total_bytes = 128 * 1024 * 1024;
module_param(max_total_bytes, uint, 0444);
MODULE_PARM_DESC(max_total_bytes, "Kernel memory all uids together may hold; beyond it ENOBUFS (default 128 MiB)");

static unsigned int max_users = 1024;
module_param(max_users, uint, 0444);
MODULE_PARM_DESC(max_users, "uids with state in the module at once (idle ones are freed); beyond it EUSERS (default 1024)");

static unsigned int keep_answer_secs = 300;
module_param(keep_answer_secs, uint, 0444);
MODULE_PARM_DESC(keep_answer_secs, "Seconds an answer read to the end stays readable, unless a newer prompt replaces it first; 0: until then (default 300)");

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

struct llamux_user;

struct llamux_req {
	struct kref ref;
	u64 id;
	struct llamux_user *user;	/* holds a reference on it */
	/* The writer's memory cgroup: the answer is charged to it too. */
	struct mem_cgroup *memcg;
	kuid_t uid;
	kgid_t gid;
	pid_t pid;
	enum llamux_req_state state;
	struct list_head node;		/* on lx.pending or lx.inflight */
	struct list_head cancel_node;	/* on lx.cancels: a CANCEL is owed */
	/*
	 * Settings text, then prompt; immutable.  Freed (NULL) once the daemon
	 * can no longer need it: the request finished or was started.
	 */
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
	/*
	 * Open generate files.  When the last closes before the end and one
	 * of them read (got text or waited for it), it is cancelled.
	 */
	unsigned int readers;
	bool watched;
	/* A reader got EOF: the answer may go after keep_answer_secs. */
	bool read_to_end;
	unsigned long read_at;		/* jiffies */
	wait_queue_head_t wait;		/* generate readers */
};

/*
 * What the module keeps for one uid.  It is freed as soon as it is idle: no
 * request object (its latest answer is one), no open prompt or config file,
 * default (empty) settings.
 */
struct llamux_user {
	struct hlist_node node;
	kuid_t uid;
	struct llamux_req *latest;	/* what this user's generate shows */
	char *settings;
	u32 settings_len;
	unsigned int refs;		/* request objects and open files */
	unsigned int queued;		/* requests QUEUED/TAKEN/CANCELLING */
	size_t bytes;			/* kernel memory held for this uid */
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
	u64 rejected, expired;
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
	/* Not loaded yet, or unload has begun: every open fails (ENODEV). */
	bool dying;
	DECLARE_HASHTABLE(users, 6);
	unsigned int nr_users;
	size_t bytes;			/* held for all uids together */
	struct delayed_work reaper;	/* drops answers read to the end */
	struct llamux_counts count;
	struct llamux_totals total;
	struct proc_dir_entry *proc_dir;
} lx;

/* Request objects in existence; must be 0 after unload. */
static atomic_t llamux_live_reqs = ATOMIC_INIT(0);

/*
 * Kernel memory a user can make the module hold is counted per uid and in
 * all, against max_user_bytes (EDQUOT) and max_total_bytes (ENOBUFS).  The
 * allocations themselves are GFP_KERNEL_ACCOUNT, so the user's memory cgroup
 * pays as well.  force: an error line or bookkeeping that must not fail; it
 * may go over the limit by that much.  Called with lx.lock held.
 */
static int llamux_charge(struct llamux_user *user, size_t bytes, bool force)
{
	if (!force) {
		if (bytes > max_user_bytes ||
		    user->bytes > max_user_bytes - bytes)
			return -EDQUOT;
		if (bytes > max_total_bytes ||
		    lx.bytes > max_total_bytes - bytes)
			return -ENOBUFS;
	}
	user->bytes += bytes;
	lx.bytes += bytes;
	return 0;
}

/*
 * What a prompt adds when it is submitted besides its bytes: the request,
 * its settings copy, and the line its predecessor gets ("superseded").
 */
static size_t llamux_submit_cost(const struct llamux_user *user)
{
	return sizeof(struct llamux_req) + user->settings_len + 256;
}

/* Checks that bytes more would fit, charging nothing. */
static int llamux_fits(struct llamux_user *user, size_t bytes)
{
	int ret = llamux_charge(user, bytes, false);

	if (!ret) {
		user->bytes -= bytes;
		lx.bytes -= bytes;
	}
	return ret;
}

static void llamux_uncharge(struct llamux_user *user, size_t bytes)
{
	user->bytes -= bytes;
	lx.bytes -= bytes;
}

static struct llamux_user *llamux_user_find(kuid_t uid)
{
	struct llamux_user *user;

	hash_for_each_possible(lx.users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/*
 * The uid's record with a reference taken, created if need be: at most
 * max_users of them (EUSERS).  Called with lx.lock held.
 */
static struct llamux_user *llamux_user_get(kuid_t uid)
{
	struct llamux_user *user = llamux_user_find(uid);

	if (user) {
		user->refs++;
		return user;
	}
	if (lx.nr_users >= max_users)
		return ERR_PTR(-EUSERS);
	user = kzalloc(sizeof(*user), GFP_KERNEL_ACCOUNT);
	if (!user)
		return ERR_PTR(-ENOMEM);
	user->uid = uid;
	user->refs = 1;
	hash_add(lx.users, &user->node, __kuid_val(uid));
	lx.nr_users++;
	return user;
}

/* Drops a reference; an idle record is freed.  Called with lx.lock held. */
static void llamux_user_put(struct llamux_user *user)
{
	if (--user->refs || user->settings)
		return;
	WARN_ON(user->bytes || user->queued || user->latest);
	hash_del(&user->node);
	lx.nr_users--;
	kfree(user);
}

static void llamux_drop_payload(struct llamux_req *req)
{
	if (!req->payload)
		return;
	kvfree(req->payload);
	req->payload = NULL;
	llamux_uncharge(req->user, req->payload_len);
}

/* Every put happens with lx.lock held: the release uncharges the user. */
static void llamux_req_release(struct kref *ref)
{
	struct llamux_req *req = container_of(ref, struct llamux_req, ref);
	struct llamux_user *user = req->user;

	llamux_drop_payload(req);
	kvfree(req->answer);
	llamux_uncharge(user, sizeof(*req) + req->answer_cap);
	mem_cgroup_put(req->memcg);
	kfree(req);
	atomic_dec(&llamux_live_reqs);
	llamux_user_put(user);
}

static void llamux_req_put(struct llamux_req *req)
{
	lockdep_assert_held(&lx.lock);
	kref_put(&req->ref, llamux_req_release);
}

/* The request leaves the queue or the in-flight list: its slot is free. */
static void llamux_unqueued(struct llamux_req *req)
{
	req->user->queued--;
}

/*
 * Whether a new prompt of this user fits in the queue: max_queue in all,
 * max_queue_per_uid for one uid.  A queued latest request of the user is
 * superseded by it, so its slot counts as free.  Returns 0 or -EBUSY.
 */
static int llamux_queue_room(const struct llamux_user *user)
{
	unsigned int frees = user->latest &&
			     user->latest->state == LLAMUX_REQ_QUEUED;

	if (lx.nr_pending + lx.nr_inflight - frees >= max_queue ||
	    user->queued - frees >= max_queue_per_uid)
		return -EBUSY;
	return 0;
}

/*
 * Appends to the answer, charged to its user (and, by GFP_KERNEL_ACCOUNT
 * under the writer's memory cgroup, to that cgroup) even though the daemon
 * sends it.  Text is bounded by max_answer_bytes (EFBIG) and the memory
 * limits (EDQUOT, ENOBUFS); an error line (error_line) is always added.
 */
static int llamux_answer_append(struct llamux_req *req, const char *data,
				size_t len, bool error_line)
{
	size_t need = req->answer_len + len;
	struct mem_cgroup *old_memcg;
	char *grown;
	size_t cap;
	int ret;

	if (!error_line && need > max_answer_bytes)
		return -EFBIG;
	if (need > req->answer_cap) {
		cap = max_t(size_t, roundup_pow_of_two(need), 256);
		ret = llamux_charge(req->user, cap - req->answer_cap,
				    error_line);
		if (ret)
			return ret;
		old_memcg = set_active_memcg(req->memcg);
		grown = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
		set_active_memcg(old_memcg);
		if (!grown) {
			llamux_uncharge(req->user, cap - req->answer_cap);
			return -ENOMEM;
		}
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
		if (req->answer_len && req->answer[req->answer_len - 1] != '\n')
			llamux_answer_append(req, "\n", 1, true);
		llamux_answer_append(req, prefix, sizeof(prefix) - 1, true);
		llamux_answer_append(req, msg, msg_len, true);
		llamux_answer_append(req, "\n", 1, true);
	}
	WRITE_ONCE(req->finished, true);
	/* The daemon will not be given it again. */
	llamux_drop_payload(req);
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
		llamux_unqueued(req);
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
	llamux_unqueued(req);
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
	struct llamux_user *user;	/* holds a reference on it */
	struct mem_cgroup *memcg;	/* the opener's, for the request */
	kgid_t gid;
	pid_t pid;
	char *buf;
	size_t len;
	size_t cap;
	/* A write failed (EFBIG, EBUSY, EDQUOT...): later ones fail alike. */
	int error;
};

/*
 * An open prompt file holds no queue slot: the prompt counts when it is
 * submitted.  A full queue, a uid over its limits or too many uids fail
 * here already (EBUSY, EDQUOT, ENOBUFS, EUSERS), and again at each write,
 * so that a writer learns it before close.
 */
static int llamux_prompt_open(struct inode *inode, struct file *file)
{
	struct llamux_prompt_writer *pw;
	struct llamux_user *user;
	int ret = 0;

	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) != FMODE_WRITE)
		return -EINVAL;
	pw = kzalloc(sizeof(*pw), GFP_KERNEL_ACCOUNT);
	if (!pw)
		return -ENOMEM;
	mutex_init(&pw->lock);
	pw->gid = file->f_cred->fsgid;
	pw->pid = task_tgid_nr(current);

	mutex_lock(&lx.lock);
	if (lx.dying) {
		ret = -ENODEV;
		goto unlock;
	}
	user = llamux_user_get(file->f_cred->fsuid);
	if (IS_ERR(user)) {
		ret = PTR_ERR(user);
		goto rejected;
	}
	ret = llamux_queue_room(user);
	if (!ret)
		ret = llamux_fits(user, sizeof(*pw) + llamux_submit_cost(user));
	if (!ret)
		ret = llamux_charge(user, sizeof(*pw), false);
	if (ret) {
		llamux_user_put(user);
		goto rejected;
	}
	pw->user = user;
	lx.nr_writing++;
	goto unlock;
rejected:
	lx.count.rejected++;
unlock:
	mutex_unlock(&lx.lock);
	if (ret) {
		kfree(pw);
		return ret;
	}
	pw->memcg = get_mem_cgroup_from_mm(current->mm);
	file->private_data = pw;
	return nonseekable_open(inode, file);
}

static ssize_t llamux_prompt_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct llamux_prompt_writer *pw = file->private_data;
	size_t cap = 0;
	char *grown;
	ssize_t ret;

	mutex_lock(&pw->lock);
	if (pw->error) {
		ret = pw->error;
		goto out;
	}
	if (count > max_prompt_bytes - pw->len) {
		ret = -EFBIG;
		goto failed;
	}
	if (pw->len + count > pw->cap) {
		cap = max_t(size_t, 2 * pw->cap, pw->len + count);
		cap = max_t(size_t, min_t(size_t, cap, max_prompt_bytes), 1);
	}
	mutex_lock(&lx.lock);
	ret = llamux_queue_room(pw->user);
	if (!ret && cap)
		ret = llamux_fits(pw->user, cap - pw->cap +
				  llamux_submit_cost(pw->user));
	if (!ret && cap)
		ret = llamux_charge(pw->user, cap - pw->cap, false);
	if (ret)
		lx.count.rejected++;
	mutex_unlock(&lx.lock);
	if (ret)
		goto failed;
	if (cap) {
		grown = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
		if (!grown) {
			mutex_lock(&lx.lock);
			llamux_uncharge(pw->user, cap - pw->cap);
			mutex_unlock(&lx.lock);
			ret = -ENOMEM;
			goto failed;
		}
		if (pw->len)
			memcpy(grown, pw->buf, pw->len);
		kvfree(pw->buf);
		pw->buf = grown;
		pw->cap = cap;
	}
	if (copy_from_user(pw->buf + pw->len, ubuf, count)) {
		ret = -EFAULT;
		goto failed;
	}
	pw->len += count;
	ret = count;
	goto out;
failed:
	/* None of this prompt is submitted: no silent truncation. */
	pw->error = ret;
out:
	mutex_unlock(&pw->lock);
	return ret;
}

/*
 * A new request of pw's user, with the payload when it is to be queued.
 * Called with lx.lock held; charged to the user (force: the prompt's bytes
 * were charged as they were written).
 */
static struct llamux_req *llamux_req_new(struct llamux_prompt_writer *pw,
					 bool with_payload)
{
	struct llamux_user *user = pw->user;
	u32 settings_len = with_payload ? user->settings_len : 0;
	struct mem_cgroup *old_memcg = set_active_memcg(pw->memcg);
	struct llamux_req *req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);

	if (req && with_payload) {
		req->payload = kvmalloc(settings_len + pw->len,
					GFP_KERNEL_ACCOUNT);
		if (!req->payload) {
			kfree(req);
			req = NULL;
		}
	}
	set_active_memcg(old_memcg);
	if (!req)
		return NULL;
	if (with_payload) {
		if (settings_len)
			memcpy(req->payload, user->settings, settings_len);
		memcpy(req->payload + settings_len, pw->buf, pw->len);
		req->settings_len = settings_len;
		req->payload_len = settings_len + pw->len;
	}
	llamux_charge(user, sizeof(*req) + req->payload_len, true);
	req->user = user;
	user->refs++;
	req->memcg = pw->memcg;
	pw->memcg = NULL;
	kref_init(&req->ref);
	req->uid = user->uid;
	req->gid = pw->gid;
	req->pid = pw->pid;
	INIT_LIST_HEAD(&req->node);
	INIT_LIST_HEAD(&req->cancel_node);
	init_waitqueue_head(&req->wait);
	atomic_inc(&llamux_live_reqs);
	return req;
}

/*
 * Queues the prompt as its user's latest request, superseding the one
 * before.  If the queue filled up since the last write, the prompt becomes
 * an answer that says so: never dropped silently.  Called with lx.lock held.
 */
static void llamux_submit(struct llamux_prompt_writer *pw)
{
	struct llamux_user *user = pw->user;
	int room = llamux_queue_room(user);
	struct llamux_req *req = llamux_req_new(pw, !room);

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
	if (room) {
		req->state = LLAMUX_REQ_DONE;
		llamux_finish_str(req, "queue full: prompt not submitted");
		lx.count.rejected++;
		return;
	}
	kref_get(&req->ref);
	list_add_tail(&req->node, &lx.pending);
	WRITE_ONCE(lx.nr_pending, lx.nr_pending + 1);
	user->queued++;
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
	if (!lx.dying && !pw->error && pw->len)
		llamux_submit(pw);
	llamux_uncharge(pw->user, sizeof(*pw) + pw->cap);
	llamux_user_put(pw->user);
	mutex_unlock(&lx.lock);
	kvfree(pw->buf);
	mem_cgroup_put(pw->memcg);
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
 * Answers read to the end stay their user's latest for keep_answer_secs,
 * then go (a newer prompt replaces them sooner); an idle user goes with
 * them.  One delayed work scans all users.
 */
static void llamux_reap(struct work_struct *work)
{
	unsigned long keep = (unsigned long)keep_answer_secs * HZ, next = 0;
	struct llamux_user *user;
	struct hlist_node *tmp;
	struct llamux_req *req;
	int bkt;

	mutex_lock(&lx.lock);
	if (lx.dying)
		goto out;
	hash_for_each_safe(lx.users, bkt, tmp, user, node) {
		req = user->latest;
		if (!req || !req->read_to_end)
			continue;
		if (time_before(jiffies, req->read_at + keep)) {
			unsigned long left = req->read_at + keep - jiffies;

			if (!next || left < next)
				next = left;
			continue;
		}
		user->latest = NULL;
		lx.count.expired++;
		llamux_req_put(req);	/* may free user */
	}
	if (next)
		schedule_delayed_work(&lx.reaper, next);
out:
	mutex_unlock(&lx.lock);
}

/* A reader got EOF: the answer may be dropped keep_answer_secs from now. */
static void llamux_read_to_end(struct llamux_req *req)
{
	req->read_to_end = true;
	req->read_at = jiffies;
	if (!lx.dying)
		schedule_delayed_work(&lx.reaper,
				      (unsigned long)keep_answer_secs * HZ);
}

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
			req->readers++;
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
			if (!req->read_to_end && keep_answer_secs)
				llamux_read_to_end(req);
			mutex_unlock(&lx.lock);
			return 0;
		}
		if (file->f_flags & O_NONBLOCK) {
			mutex_unlock(&lx.lock);
			return -EAGAIN;
		}
		req->watched = true;
		mutex_unlock(&lx.lock);
		/*
		 * A signal only interrupts the wait.  A reader killed here
		 * closes its file, and the last close cancels the work.
		 */
		ret = wait_event_interruptible(req->wait,
					       llamux_answer_ready(req, *ppos));
		if (ret)
			return ret;
	}
	/* Holding lx.lock: copy to a bounce buffer, never to user memory. */
	req->watched = true;
	n = min3(count, req->answer_len - (size_t)*ppos,
		 (size_t)LLAMUX_READ_CHUNK);
	bounce = kmalloc(n, GFP_KERNEL_ACCOUNT);
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

/*
 * When the last generate file of an unfinished request closes, nobody reads
 * the answer (`head -c 100 generate`, a killed reader): cancel it.  While
 * another reader has it open, it goes on.  Files that only got EAGAIN do
 * not count, so polling with O_NONBLOCK and reopening cancels nothing.
 */
static int llamux_generate_release(struct inode *inode, struct file *file)
{
	struct llamux_req *req = file->private_data;

	if (!req)
		return 0;
	mutex_lock(&lx.lock);
	if (!--req->readers && req->watched && llamux_cancel(req, "cancelled"))
		lx.count.cancelled++;
	llamux_req_put(req);
	mutex_unlock(&lx.lock);
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
	struct llamux_user *user;	/* holds a reference on it */
	char *snapshot;			/* the settings at open, for reads */
	size_t snapshot_len;
	char *buf;			/* what was written, set on close */
	size_t len;
	bool writing;
	bool too_big;
	size_t charged;			/* bytes charged to the user */
};

/*
 * An open config file costs its uid what it holds (a 4 KiB buffer to
 * write into, a copy of the settings to read): EDQUOT past the limit.
 */
static int llamux_config_open(struct inode *inode, struct file *file)
{
	struct llamux_config_file *cf = kzalloc(sizeof(*cf),
						GFP_KERNEL_ACCOUNT);
	struct llamux_user *user = NULL;
	int ret = 0;

	if (!cf)
		return -ENOMEM;
	mutex_init(&cf->lock);
	if (file->f_mode & FMODE_WRITE) {
		cf->writing = true;
		cf->buf = kmalloc(LLAMUX_MAX_SETTINGS, GFP_KERNEL_ACCOUNT);
		if (!cf->buf)
			ret = -ENOMEM;
	}
	mutex_lock(&lx.lock);
	if (!ret && lx.dying)
		ret = -ENODEV;
	if (!ret) {
		user = llamux_user_get(file->f_cred->fsuid);
		if (IS_ERR(user)) {
			ret = PTR_ERR(user);
			user = NULL;
		}
	}
	if (!ret && (file->f_mode & FMODE_READ) && user->settings_len) {
		cf->snapshot = kmemdup(user->settings, user->settings_len,
				       GFP_KERNEL_ACCOUNT);
		if (cf->snapshot)
			cf->snapshot_len = user->settings_len;
		else
			ret = -ENOMEM;
	}
	if (!ret) {
		cf->charged = sizeof(*cf) + cf->snapshot_len +
			      (cf->buf ? LLAMUX_MAX_SETTINGS : 0);
		ret = llamux_charge(user, cf->charged, false);
	}
	if (ret && user)
		llamux_user_put(user);
	mutex_unlock(&lx.lock);
	if (ret) {
		kfree(cf->snapshot);
		kfree(cf->buf);
		kfree(cf);
		return ret;
	}
	cf->user = user;
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
 * wrote nothing clears them (and a user with no other state is freed).
 */
static int llamux_config_release(struct inode *inode, struct file *file)
{
	struct llamux_config_file *cf = file->private_data;
	struct llamux_user *user = cf->user;
	char *settings = NULL;

	if (cf->writing && !cf->too_big && cf->len) {
		/* Keep no more than was written; else the whole buffer. */
		settings = kmemdup(cf->buf, cf->len, GFP_KERNEL_ACCOUNT);
		if (!settings)
			swap(settings, cf->buf);
	}
	mutex_lock(&lx.lock);
	if (cf->writing && !cf->too_big) {
		llamux_uncharge(user, user->settings_len);
		kfree(user->settings);
		user->settings = settings;
		user->settings_len = cf->len;
		llamux_charge(user, cf->len, true);
	}
	llamux_uncharge(user, cf->charged);
	llamux_user_put(user);
	mutex_unlock(&lx.lock);
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
	seq_printf(m, "queue: %u waiting, %u answering, %u being written, limit %u, %u per uid\n",
		   lx.nr_pending, lx.nr_inflight, lx.nr_writing, max_queue,
		   max_queue_per_uid);
	seq_printf(m, "requests: %llu submitted, %llu answered, %llu failed, %llu cancelled, %llu superseded, %llu aborted, %llu rejected\n",
		   lx.count.submitted, lx.count.answered, lx.count.failed,
		   lx.count.cancelled, lx.count.superseded, lx.count.aborted,
		   lx.count.rejected);
	seq_printf(m, "live requests: %d\n", atomic_read(&llamux_live_reqs));
	seq_printf(m, "limits: prompt %u bytes, answer %u bytes\n",
		   max_prompt_bytes, max_answer_bytes);
	seq_printf(m, "memory: %zu bytes held for %u users; limits %u bytes per uid, %u in all, %u users\n",
		   lx.bytes, lx.nr_users, max_user_bytes, max_total_bytes,
		   max_users);
	seq_printf(m, "kept answers: %u s after they are read to the end, %llu dropped so far\n",
		   keep_answer_secs, lx.count.expired);
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
	seq_printf(m, "your memory: %zu bytes\n", user ? user->bytes : 0);
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
		if (req->state == LLAMUX_REQ_TAKEN && !req->started &&
		    req->payload) {
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
 * drops it.  While the payload is copied, this function owns it (the
 * request's pointer is NULL), so a cancel meanwhile cannot free it.
 */
static ssize_t llamux_send_request(char __user *ubuf, size_t count)
{
	struct llamux_req *req;
	struct llamux_req_hdr hdr;
	char *payload;
	size_t size;
	bool fault;
	u64 id;

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
	id = req->id;
	payload = req->payload;
	req->payload = NULL;
	mutex_unlock(&lx.lock);

	llamux_fill_hdr(&hdr, LLAMUX_MSG_REQUEST, req, req->payload_len);
	fault = copy_to_user(ubuf, &hdr, sizeof(hdr)) ||
		copy_to_user(ubuf + sizeof(hdr), payload, req->payload_len);

	mutex_lock(&lx.lock);
	if (req->state == LLAMUX_REQ_TAKEN && !req->started) {
		/* Kept until started, for a next daemon if this one dies. */
		req->payload = payload;
	} else {
		kvfree(payload);
		llamux_uncharge(req->user, req->payload_len);
	}
	if (fault) {
		/* The daemon never saw it: back to the head of the queue. */
		if (req->state == LLAMUX_REQ_TAKEN && req->payload) {
			list_move(&req->node, &lx.pending);
			lx.nr_inflight--;
			WRITE_ONCE(lx.nr_pending, lx.nr_pending + 1);
			req->state = LLAMUX_REQ_QUEUED;
		} else if (req->state == LLAMUX_REQ_CANCELLING) {
			llamux_retire(req);
		}
	}
	llamux_req_put(req);
	mutex_unlock(&lx.lock);
	if (fault)
		return -EFAULT;
	pr_debug("request %llu taken by the daemon (%zu bytes)\n", id, size);
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

	/* Started: it will not be handed out again, the payload can go. */
	req->started = true;
	llamux_drop_payload(req);
	/* Cancelled, and the daemon has not seen the CANCEL yet: drop it. */
	if (req->state != LLAMUX_REQ_TAKEN || !len)
		return 0;
	ret = llamux_answer_append(req, text, len, false);
	switch (ret) {
	case 0:
		break;
	case -EFBIG:
		llamux_cancel(req, "answer too long");
		lx.count.failed++;
		return 0;
	case -EDQUOT:
		llamux_cancel(req, "answer over this uid's memory limit");
		lx.count.failed++;
		return 0;
	case -ENOBUFS:
		llamux_cancel(req, "answer over the memory limit of all uids");
		lx.count.failed++;
		return 0;
	default:
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
		copy = kmemdup(text, len, GFP_KERNEL_ACCOUNT);
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

/*
 * Frees what is left once no file is open and no daemon attached: at unload,
 * or when init fails after the proc files appeared.
 */
static void llamux_teardown(void)
{
	struct llamux_req *req, *tmp;
	struct llamux_user *user;
	struct hlist_node *htmp;
	int bkt, leaked;

	cancel_delayed_work_sync(&lx.reaper);
	mutex_lock(&lx.lock);
	list_for_each_entry_safe(req, tmp, &lx.pending, node) {
		list_del_init(&req->node);
		WRITE_ONCE(lx.nr_pending, lx.nr_pending - 1);
		llamux_unqueued(req);
		llamux_req_put(req);
	}
	hash_for_each_safe(lx.users, bkt, htmp, user, node) {
		user->refs++;		/* keep it until its state is gone */
		req = user->latest;
		user->latest = NULL;
		if (req)
			llamux_req_put(req);
		llamux_uncharge(user, user->settings_len);
		kfree(user->settings);
		user->settings = NULL;
		user->settings_len = 0;
		llamux_user_put(user);
	}
	WARN(lx.nr_users, "llamux: %u user records leaked at unload\n",
	     lx.nr_users);
	kfree(lx.daemon_status);
	lx.daemon_status = NULL;
	lx.daemon_status_len = 0;
	mutex_unlock(&lx.lock);
	WARN_ON(!list_empty(&lx.inflight) || !list_empty(&lx.cancels));
	leaked = atomic_read(&llamux_live_reqs);
	WARN(leaked, "llamux: %d request objects leaked at unload\n", leaked);
}

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
	if (!max_queue || !max_queue_per_uid || !max_answer_bytes ||
	    !max_user_bytes || !max_total_bytes || !max_users) {
		pr_err("max_queue, max_queue_per_uid, max_answer_bytes, max_user_bytes, max_total_bytes and max_users must be positive\n");
		return -EINVAL;
	}
	max_queue_per_uid = min(max_queue_per_uid, max_queue);
	if (max_answer_bytes > LLAMUX_MAX_ANSWER) {
		pr_warn("max_answer_bytes=%u clamped to %u\n", max_answer_bytes,
			LLAMUX_MAX_ANSWER);
		max_answer_bytes = LLAMUX_MAX_ANSWER;
	}
	if (keep_answer_secs > LLAMUX_MAX_KEEP_SECS) {
		pr_warn("keep_answer_secs=%u clamped to %u\n", keep_answer_secs,
			LLAMUX_MAX_KEEP_SECS);
		keep_answer_secs = LLAMUX_MAX_KEEP_SECS;
	}
	mutex_init(&lx.lock);
	INIT_LIST_HEAD(&lx.pending);
	INIT_LIST_HEAD(&lx.inflight);
	INIT_LIST_HEAD(&lx.cancels);
	init_waitqueue_head(&lx.daemon_wait);
	hash_init(lx.users);
	INIT_DELAYED_WORK(&lx.reaper, llamux_reap);
	/* Nothing can be opened before init has succeeded. */
	lx.dying = true;

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
	mutex_lock(&lx.lock);
	lx.dying = false;
	mutex_unlock(&lx.lock);
	pr_info("loaded: protocol %u, max_prompt_bytes=%u max_queue=%u max_queue_per_uid=%u max_answer_bytes=%u max_user_bytes=%u max_total_bytes=%u max_users=%u keep_answer_secs=%u\n",
		LLAMUX_PROTO_VERSION, max_prompt_bytes, max_queue,
		max_queue_per_uid, max_answer_bytes, max_user_bytes,
		max_total_bytes, max_users, keep_answer_secs);
	return 0;
fail:
	/* procfs waits for open files; then nothing may be left behind. */
	proc_remove(lx.proc_dir);
	llamux_teardown();
	return ret;
}

static void __exit llamux_exit(void)
{
	struct llamux_user *user;
	int bkt;

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
	llamux_teardown();
	pr_info("unloaded\n");
}

module_init(llamux_init);
module_exit(llamux_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Large language models behind /proc/llamux, answered by a user-space daemon through /dev/llamux");
MODULE_AUTHOR("Llamux developers");
