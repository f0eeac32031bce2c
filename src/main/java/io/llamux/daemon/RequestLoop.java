package io.llamux.daemon;

import io.llamux.engine.GenerationResult;
import io.llamux.sampling.SamplerSettings;
import io.llamux.engine.StopReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Serves requests from the kernel: the calling thread reads the channel (requests, and
 * CANCELs that must be seen while an answer is being generated), one worker thread
 * generates, one request at a time, taken from a {@link FairQueue} (round robin by uid).
 *
 * <p>The daemon holds at most {@code maxHeld} waiting requests; beyond that it stops
 * reading, so the rest stay queued in the kernel. Held requests are not lost when the daemon
 * stops or dies: the kernel puts every request it has read but not marked started
 * ({@link Wire#started}) back at the head of its queue for the next daemon.
 *
 * <p>Privacy: the log has ids, uids, sizes, counts and speeds, never prompt or answer text.
 */
public final class RequestLoop {
    private static final Logger log = LoggerFactory.getLogger(RequestLoop.class);
    static final int POLL_MILLIS = 200;

    private final Channel channel;
    private final Answerer answerer;
    private final RequestSettings defaults;
    private final Supplier<String> modelStatus;
    private final Notifier notifier;
    private final LongSupplier randomSeed;
    private final int maxHeld;
    private final FairQueue<Job> queue = new FairQueue<>(j -> j.request.uid(), j -> j.request.id());
    private final DaemonStats stats = new DaemonStats();
    private volatile Job current;
    private volatile boolean stopping;
    private volatile Throwable fatal;

    /** One request and what became of it. */
    private static final class Job {
        final KernelMessage.Request request;
        volatile boolean cancelled;
        /** The kernel no longer has the request: send nothing more for it. */
        volatile boolean gone;

        Job(KernelMessage.Request request) {
            this.request = request;
        }
    }

    public RequestLoop(Channel channel, Answerer answerer, RequestSettings defaults, Supplier<String> modelStatus,
                       Notifier notifier, LongSupplier randomSeed, int maxHeld) {
        this.channel = channel;
        this.answerer = answerer;
        this.defaults = defaults;
        this.modelStatus = modelStatus;
        this.notifier = notifier;
        this.randomSeed = randomSeed;
        this.maxHeld = maxHeld;
    }

    /**
     * Asks {@link #run()} to finish: the answer in progress is cut short with an error; waiting
     * ones get no reply, so the kernel keeps them for the next daemon.
     */
    public void stop() {
        stopping = true;
    }

    /**
     * Serves until {@link #stop()} or until the channel closes (then throws). Returns within
     * about {@link #POLL_MILLIS} of stop() plus the time the generator takes to notice.
     */
    public void run() throws IOException, InterruptedException {
        Thread worker = Thread.ofPlatform().name("llamux-generate").daemon(true).start(this::work);
        try {
            sendStatus();
            while (!stopping && fatal == null) {
                if (!queue.awaitRoom(maxHeld, POLL_MILLIS, TimeUnit.MILLISECONDS)) continue;
                KernelMessage m;
                try {
                    m = channel.receive(POLL_MILLIS);
                } catch (Wire.WireException e) {
                    log.warn("ignored a malformed message from the kernel: {}", e.getMessage());
                    continue;
                }
                if (m instanceof KernelMessage.Request r) {
                    log.debug("request {} uid {} queued: prompt {} bytes, settings {} bytes", r.id(), r.uid(),
                            r.promptBytes(), r.settings().length());
                    queue.add(new Job(r));
                } else if (m instanceof KernelMessage.Cancel c) {
                    cancel(c);
                }
            }
        } finally {
            // The running generation sees 'stopping' and ends; its reader gets an error, not DONE.
            // Waiting jobs get nothing: unstarted, they go back to the kernel's queue when the
            // device closes, and the next daemon answers them.
            stopping = true;
            List<Job> unstarted = queue.close();
            if (!unstarted.isEmpty()) {
                log.info("{} waiting requests left to the kernel for the next daemon: ids {}", unstarted.size(),
                        unstarted.stream().map(j -> String.valueOf(j.request.id())).collect(Collectors.joining(" ")));
            }
            worker.join();
        }
        if (fatal != null) throw new IOException("the device failed: " + fatal.getMessage(), fatal);
    }

    private void cancel(KernelMessage.Cancel c) {
        Job running = current;
        if (running != null && running.request.id() == c.id()) {
            log.debug("request {} uid {}: cancel while generating", c.id(), c.uid());
            running.cancelled = true;
            return;
        }
        Job waiting = queue.remove(c.id());
        if (waiting != null) {
            log.info("request {} uid {}: cancelled before it started", c.id(), c.uid());
            stats.finished(new GenerationResult(0, 0, StopReason.CANCELLED, 0, 0));
            reply(waiting, Wire.done(c.id(), 0, 0, Wire.STOP_CANCEL, 0));
        }
        // Otherwise the request was already answered: nothing to do.
    }

    private void work() {
        try {
            while (!stopping) {
                Job job = queue.take(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (job == null) continue;
                if (stopping) break; // unstarted, the job goes back to the kernel's queue
                current = job;
                try {
                    serve(job);
                } finally {
                    current = null;
                }
                sendStatus();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            log.error("the generator thread failed", t);
            fatal = t;
        }
    }

    private void serve(Job job) {
        KernelMessage.Request r = job.request;
        // First of all: a request that kills the daemon from here on must not be retried.
        reply(job, Wire.started(r.id()));
        RequestSettings settings;
        try {
            settings = defaults.apply(r.settings());
        } catch (RequestSettings.BadSettingException e) {
            stats.failed();
            log.info("request {} uid {}: rejected: {}", r.id(), r.uid(), e.getMessage());
            reply(job, Wire.error(r.id(), e.getMessage() + " (in /proc/llamux/config)"));
            return;
        }
        SamplerSettings sampler = settings.sampler(randomSeed);
        String prompt = promptText(r.prompt());
        // The answer (for raw text: the prompt, then its continuation, as `llamux run` prints
        // it), then a newline.
        long t0 = System.nanoTime();
        GenerationResult result;
        String detail;
        try {
            Answerer.Answer answer = answerer.answer(r.uid(), prompt, settings, sampler,
                    piece -> {
                        if (!piece.isEmpty()) reply(job, Wire.token(r.id(), piece));
                    },
                    () -> job.cancelled || job.gone || stopping);
            result = answer.result();
            detail = answer.detail();
        } catch (RuntimeException e) {
            stats.failed();
            log.error("request {} uid {}: generation failed", r.id(), r.uid(), e);
            reply(job, Wire.error(r.id(), "generation failed: " + e.getMessage()));
            return;
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (stopping && !job.cancelled && result.stopReason() == StopReason.CANCELLED) {
            stats.failed();
            log.info("request {} uid {}: cut short by shutdown after {} tokens", r.id(), r.uid(), result.generatedTokens());
            reply(job, Wire.error(r.id(), "the daemon stopped in the middle of this answer"));
            return;
        }
        reply(job, Wire.token(r.id(), "\n"));
        stats.finished(result);
        log.info(String.format(Locale.ROOT,
                "request %d uid %d: %d prompt tokens (%.1f tok/s), %d generated (%.1f tok/s), %s, %d ms%s%s",
                r.id(), r.uid(), result.promptTokens(), result.promptTokensPerSecond(), result.generatedTokens(),
                result.generatedTokensPerSecond(), result.stopReason().describe(), ms, detail,
                job.gone ? ", reader gone" : ""));
        reply(job, Wire.done(r.id(), result.promptTokens(), result.generatedTokens(), result.stopReason().wireCode,
                result.generatedTokensPerSecond()));
    }

    /** The prompt as generated from: without the one newline that {@code echo} adds. */
    static String promptText(String written) {
        if (written.endsWith("\r\n")) return written.substring(0, written.length() - 2);
        if (written.endsWith("\n")) return written.substring(0, written.length() - 1);
        return written;
    }

    /** Sends a reply for a job; a request the kernel dropped marks the job gone (its work stops). */
    private void reply(Job job, java.lang.foreign.MemorySegment message) {
        if (job.gone) return;
        try {
            channel.send(message);
        } catch (Channel.RequestGoneException e) {
            log.debug("request {}: {}", job.request.id(), e.getMessage());
            job.gone = true;
        } catch (IOException e) {
            if (fatal == null) fatal = e;
            job.gone = true;
        }
    }

    /**
     * The status text. /proc/llamux/status shows it under its own lines after "daemon status:",
     * so every line is indented to read as part of that section.
     */
    public String statusText() {
        return (modelStatus.get() + stats.describe(queue.size(), current != null)).lines().map(l -> "  " + l + "\n")
                .collect(Collectors.joining());
    }

    private void sendStatus() {
        try {
            channel.send(Wire.status(statusText()));
        } catch (IOException e) {
            if (fatal == null && !stopping) fatal = e;
        }
        notifier.status(stats.summary());
    }
}
