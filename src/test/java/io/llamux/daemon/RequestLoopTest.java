package io.llamux.daemon;

import io.llamux.engine.GenerationResult;
import io.llamux.sampling.SamplerSettings;
import io.llamux.engine.StopReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The request loop against an in-memory kernel and a scripted generator. */
class RequestLoopTest {

    record Sent(int type, long id, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    /** The kernel's side: messages to hand out, replies received. */
    static final class FakeKernel implements Channel {
        final BlockingQueue<KernelMessage> toDaemon = new LinkedBlockingQueue<>();
        final BlockingQueue<Sent> fromDaemon = new LinkedBlockingQueue<>();
        final Set<Long> gone = ConcurrentHashMap.newKeySet();
        /** Ids the daemon marked started (empty TOKEN), in order; not passed on as replies. */
        final List<Long> started = Collections.synchronizedList(new ArrayList<>());
        final List<String> violations = Collections.synchronizedList(new ArrayList<>());

        @Override
        public KernelMessage receive(int timeoutMillis) throws java.io.InterruptedIOException {
            try {
                return toDaemon.poll(timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
        }

        @Override
        public void send(MemorySegment reply) throws RequestGoneException {
            assertEquals(Wire.MAGIC, Wire.replyMagic(reply));
            assertEquals(Wire.REPLY_HDR_SIZE + Wire.replyLength(reply), reply.byteSize());
            long id = Wire.replyId(reply);
            if (gone.contains(id)) throw new RequestGoneException("gone");
            Sent sent = new Sent(Wire.replyType(reply), id, Wire.replyPayload(reply));
            if (sent.type() == Wire.MSG_TOKEN && sent.payload().length == 0) {
                if (started.contains(id)) violations.add("request " + id + " marked started twice");
                started.add(id);
                return;
            }
            // Like the kernel, which hands a request nobody started to the next daemon if this
            // one dies: no work may show before the mark. Only a waiting request's cancel may.
            boolean cancelOfWaiting = sent.type() == Wire.MSG_DONE
                    && Wire.doneField(sent.payload(), "stop_reason") == Wire.STOP_CANCEL;
            if (sent.type() != Wire.MSG_STATUS && !started.contains(id) && !cancelOfWaiting) {
                violations.add("reply type " + sent.type() + " for request " + id + " before it was marked started");
            }
            fromDaemon.add(sent);
        }

        @Override
        public void close() {
        }

        void request(long id, int uid, String settings, String prompt) {
            toDaemon.add(new KernelMessage.Request(id, uid, uid, 1, settings, prompt, prompt.length()));
        }

        /** The next reply that is not STATUS. */
        Sent next() throws InterruptedException {
            while (true) {
                Sent s = fromDaemon.poll(5, TimeUnit.SECONDS);
                assertNotNull(s, "no reply from the daemon within 5 s");
                if (s.type() != Wire.MSG_STATUS) return s;
            }
        }

        /** Replies up to and including the one that ends request id. */
        List<Sent> answer(long id) throws InterruptedException {
            List<Sent> out = new ArrayList<>();
            while (true) {
                Sent s = next();
                assertEquals(id, s.id(), "reply for another request: " + s.type());
                out.add(s);
                if (s.type() == Wire.MSG_DONE || s.type() == Wire.MSG_ERROR) return out;
            }
        }
    }

    /** Emits the words of the prompt reversed, one piece each; can hold until released or cancelled. */
    static final class ScriptedGenerator implements Generator {
        final List<String> served = Collections.synchronizedList(new ArrayList<>());
        final List<SamplerSettings> settings = Collections.synchronizedList(new ArrayList<>());
        volatile CountDownLatch hold = new CountDownLatch(0);
        final CountDownLatch started = new CountDownLatch(1);
        volatile boolean sawCancel;

        @Override
        public GenerationResult generate(String prompt, SamplerSettings s, int maxTokens, Consumer<String> onText,
                                         BooleanSupplier cancelled) {
            served.add(prompt);
            settings.add(s);
            started.countDown();
            if (prompt.equals("boom")) throw new IllegalStateException("scripted failure");
            if (prompt.startsWith("forever")) {
                int n = 0;
                while (!cancelled.getAsBoolean()) {
                    onText.accept("x");
                    n++;
                    sleep(5);
                }
                sawCancel = true;
                return new GenerationResult(1, n, StopReason.CANCELLED, 100, 50);
            }
            try {
                hold.await();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
            String[] words = prompt.split(" ");
            int n = 0;
            for (int i = words.length - 1; i >= 0 && n < maxTokens; i--, n++) {
                if (cancelled.getAsBoolean()) return new GenerationResult(words.length, n, StopReason.CANCELLED, 10, 20);
                onText.accept(words[i] + " ");
            }
            return new GenerationResult(words.length, n, n == maxTokens ? StopReason.LENGTH : StopReason.EOS, 1000, 123.4567);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    private final FakeKernel kernel = new FakeKernel();
    private final ScriptedGenerator generator = new ScriptedGenerator();
    private RequestLoop loop;
    private Thread loopThread;
    private final List<Throwable> loopFailure = Collections.synchronizedList(new ArrayList<>());

    private void start(int maxHeld) {
        loop = new RequestLoop(kernel, Answerer.completions(generator), RequestSettings.defaults(), () -> "model: scripted\n",
                Notifier.NONE, () -> 1234L, maxHeld);
        loopThread = Thread.ofPlatform().start(() -> {
            try {
                loop.run();
            } catch (Throwable t) {
                loopFailure.add(t);
            }
        });
    }

    /** Starts the loop and has it generate request 1 (uid 1000), held until generator.hold opens. */
    private void startBusyWith(String prompt, int maxHeld) throws InterruptedException {
        generator.hold = new CountDownLatch(1);
        start(maxHeld);
        kernel.request(1, 1000, "", prompt);
        assertTrue(generator.started.await(5, TimeUnit.SECONDS));
    }

    /** Waits until the loop has read every message handed to it, and a little more. */
    private void awaitAllRead() {
        while (!kernel.toDaemon.isEmpty()) sleep(10);
        sleep(3 * RequestLoop.POLL_MILLIS);
    }

    @AfterEach
    void stop() throws InterruptedException {
        generator.hold.countDown();
        if (loop != null) {
            loop.stop();
            loopThread.join(5000);
            assertFalse(loopThread.isAlive(), "the loop stops promptly");
        }
        assertTrue(loopFailure.isEmpty(), () -> "loop failed: " + loopFailure);
        assertEquals(List.of(), kernel.violations, "protocol order");
    }

    @Test
    void answerIsStreamedThenDoneWithCountsAndSpeed() throws Exception {
        start(8);
        kernel.request(1, 1000, "temperature=0 max_tokens=10", "c b a\n");
        List<Sent> a = kernel.answer(1);
        // The prompt (less echo's newline) comes first, as `llamux run` prints it, then the pieces, then a newline.
        assertEquals(List.of("c b a", "a ", "b ", "c ", "\n"), a.subList(0, 5).stream().map(Sent::text).toList());
        assertTrue(a.subList(0, 5).stream().allMatch(s -> s.type() == Wire.MSG_TOKEN));
        assertEquals(List.of("c b a"), generator.served);
        Sent done = a.get(5);
        assertEquals(Wire.MSG_DONE, done.type());
        assertEquals(3, Wire.doneField(done.payload(), "prompt_tokens"));
        assertEquals(3, Wire.doneField(done.payload(), "generated_tokens"));
        assertEquals(Wire.STOP_EOS, Wire.doneField(done.payload(), "stop_reason"));
        assertEquals(123456, Wire.doneField(done.payload(), "millitokens_per_sec"));
        assertTrue(generator.settings.getFirst().isGreedy(), "the user's settings reached the generator");
        // STATUS follows every answer and counts it.
        Sent status;
        do {
            status = kernel.fromDaemon.poll(5, TimeUnit.SECONDS);
            assertNotNull(status);
        } while (status.type() != Wire.MSG_STATUS);
        assertEquals(0, status.id());
        assertTrue(status.text().startsWith("  model: scripted\n  uptime: "), status.text());
        assertTrue(status.text().contains("requests: 1 served"), status.text());
        assertTrue(status.text().contains("generated: 3 tokens, 123.5 tok/s on average"), status.text());
        assertFalse(status.text().contains("uid"), "every user reads the status: " + status.text());
    }

    @Test
    void settingsLimitTheAnswerAndFixTheSeed() throws Exception {
        start(8);
        kernel.request(1, 1000, "max_tokens=2 seed=77", "d c b a");
        List<Sent> a = kernel.answer(1);
        assertEquals(5, a.size());
        assertEquals(Wire.STOP_LENGTH, Wire.doneField(a.get(4).payload(), "stop_reason"));
        assertEquals(77, generator.settings.getFirst().seed());
        kernel.request(2, 1000, "", "a");
        kernel.answer(2);
        assertEquals(1234, generator.settings.get(1).seed(), "no seed set: a random one is drawn");
    }

    @Test
    void badSettingIsAnErrorForThatUserOnly() throws Exception {
        start(8);
        kernel.request(1, 1000, "top_p=7", "a b");
        List<Sent> a = kernel.answer(1);
        assertEquals(1, a.size());
        assertEquals(Wire.MSG_ERROR, a.getFirst().type());
        assertEquals("bad value in 'top_p=7': expected a number from 0 to 1 (1: off) (in /proc/llamux/config)",
                a.getFirst().text());
        assertTrue(generator.served.isEmpty(), "nothing generated for a bad setting");
        kernel.request(2, 1001, "", "ok");
        assertEquals(Wire.MSG_DONE, kernel.answer(2).getLast().type());
    }

    @Test
    void firstPieceIsSentBeforeTheLastIsProduced() throws Exception {
        CountDownLatch firstSeen = new CountDownLatch(1);
        Generator streaming = (prompt, s, max, onText, cancelled) -> {
            onText.accept("first ");
            try {
                assertTrue(firstSeen.await(5, TimeUnit.SECONDS), "first piece reached the kernel while generating");
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
            onText.accept("last");
            return new GenerationResult(1, 2, StopReason.EOS, 1, 1);
        };
        loop = new RequestLoop(kernel, Answerer.completions(streaming), RequestSettings.defaults(), () -> "", Notifier.NONE, () -> 1, 8);
        loopThread = Thread.ofPlatform().start(() -> {
            try {
                loop.run();
            } catch (Throwable t) {
                loopFailure.add(t);
            }
        });
        kernel.request(5, 0, "", "p");
        assertEquals("p", kernel.next().text());
        assertEquals("first ", kernel.next().text());
        firstSeen.countDown();
        assertEquals("last", kernel.next().text());
        assertEquals("\n", kernel.next().text());
        assertEquals(Wire.MSG_DONE, kernel.next().type());
    }

    @Test
    void cancelStopsTheRunningGeneration() throws Exception {
        start(8);
        kernel.request(3, 1000, "", "forever");
        assertEquals(Wire.MSG_TOKEN, kernel.next().type());
        kernel.toDaemon.add(new KernelMessage.Cancel(3, 1000));
        Sent last;
        do {
            last = kernel.next();
        } while (last.type() == Wire.MSG_TOKEN);
        assertEquals(Wire.MSG_DONE, last.type());
        assertEquals(Wire.STOP_CANCEL, Wire.doneField(last.payload(), "stop_reason"));
        assertTrue(generator.sawCancel);
    }

    @Test
    void cancelOfAWaitingRequestSkipsIt() throws Exception {
        startBusyWith("a", 8);
        kernel.request(2, 1001, "", "never generated");
        kernel.toDaemon.add(new KernelMessage.Cancel(2, 1001));
        Sent cancelled = kernel.next();
        assertEquals(2, cancelled.id());
        assertEquals(Wire.MSG_DONE, cancelled.type());
        assertEquals(Wire.STOP_CANCEL, Wire.doneField(cancelled.payload(), "stop_reason"));
        generator.hold.countDown();
        kernel.answer(1);
        sleep(100);
        assertEquals(List.of("a"), generator.served);
    }

    @Test
    void waitingRequestsAreServedRoundRobinByUid() throws Exception {
        startBusyWith("A1", 8);
        kernel.request(2, 1000, "", "A2");
        kernel.request(3, 1000, "", "A3");
        kernel.request(4, 2000, "", "B1");
        kernel.request(5, 1000, "", "A4");
        kernel.request(6, 3000, "", "C1");
        kernel.request(7, 2000, "", "B2");
        awaitAllRead();
        generator.hold.countDown();
        List<Long> doneOrder = new ArrayList<>();
        while (doneOrder.size() < 7) {
            Sent s = kernel.next();
            if (s.type() == Wire.MSG_DONE) doneOrder.add(s.id());
        }
        assertEquals(List.of("A1", "A2", "B1", "C1", "A3", "B2", "A4"), generator.served);
        assertEquals(List.of(1L, 2L, 4L, 6L, 3L, 7L, 5L), doneOrder);
    }

    @Test
    void requestsBeyondTheHoldLimitStayInTheKernel() throws Exception {
        startBusyWith("a", 1);
        kernel.request(2, 1000, "", "b");
        kernel.request(3, 1000, "", "c");
        sleep(4 * RequestLoop.POLL_MILLIS);
        assertEquals(1, kernel.toDaemon.size(), "one waits in the daemon, the other stays queued in the kernel");
        generator.hold.countDown();
        kernel.answer(1);
        kernel.answer(2);
        kernel.answer(3);
    }

    @Test
    void onlyTheNewlineEchoAddsIsDropped() {
        assertEquals("a", RequestLoop.promptText("a\n"));
        assertEquals("a", RequestLoop.promptText("a\r\n"));
        assertEquals("a\n", RequestLoop.promptText("a\n\n"));
        assertEquals("", RequestLoop.promptText(""));
    }

    @Test
    void generatorFailureIsAnErrorAndTheLoopGoesOn() throws Exception {
        start(8);
        kernel.request(1, 1000, "", "boom");
        Sent e = kernel.next();
        assertEquals(Wire.MSG_ERROR, e.type());
        assertEquals("generation failed: scripted failure", e.text());
        kernel.request(2, 1000, "", "fine");
        assertEquals(Wire.MSG_DONE, kernel.answer(2).getLast().type());
    }

    @Test
    void aRequestTheKernelDroppedStopsItsWork() throws Exception {
        start(8);
        kernel.gone.add(9L);
        kernel.request(9, 1000, "", "forever and ever");
        long t0 = System.nanoTime();
        while (!generator.sawCancel && System.nanoTime() - t0 < 5_000_000_000L) sleep(10);
        assertTrue(generator.sawCancel, "ENOENT on a reply cancels the generation");
        kernel.request(10, 1000, "", "next");
        assertEquals(10, kernel.next().id());
    }

    @Test
    void heldRequestsAreNotMarkedStartedUntilServed() throws Exception {
        startBusyWith("a", 8);
        kernel.request(2, 2000, "", "b");
        kernel.request(3, 3000, "", "c");
        awaitAllRead();
        assertEquals(List.of(1L), kernel.started, "only the request being generated is started");
        generator.hold.countDown();
        kernel.answer(1);
        kernel.answer(2);
        kernel.answer(3);
        assertEquals(List.of(1L, 2L, 3L), kernel.started);
    }

    @Test
    void stopCutsTheAnswerShortAndLeavesWaitingRequestsToTheKernel() throws Exception {
        start(8);
        kernel.request(1, 1000, "", "forever");
        assertEquals(Wire.MSG_TOKEN, kernel.next().type());
        kernel.request(2, 2000, "", "waiting");
        awaitAllRead();
        loop.stop();
        loopThread.join(5000);
        assertFalse(loopThread.isAlive());
        List<Sent> rest = new ArrayList<>(kernel.fromDaemon);
        assertTrue(rest.stream().noneMatch(s -> s.id() == 2), () -> "no reply for the waiting request: " + rest);
        assertFalse(kernel.started.contains(2L), "the waiting request is not started: the kernel re-queues it");
        Sent cut = rest.stream().filter(s -> s.id() == 1 && s.type() != Wire.MSG_TOKEN).findFirst().orElseThrow();
        assertEquals(Wire.MSG_ERROR, cut.type());
        assertTrue(cut.text().contains("stopped in the middle"), cut.text());
    }
}
