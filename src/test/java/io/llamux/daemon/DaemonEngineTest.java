package io.llamux.daemon;

import io.llamux.testing.Shared;
import io.llamux.engine.Engine;
import io.llamux.engine.EngineOptions;
import io.llamux.engine.GenerationResult;
import io.llamux.sampling.SamplerSettings;
import io.llamux.gguf.GgufFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's whole path minus the kernel: the model copied into huge-page memory, parsed
 * from there, the real engine behind the request loop. What a reader gets must be what the
 * engine generates directly (as `llamux run` prints it), for the same greedy settings.
 */
class DaemonEngineTest {
    private static final Path MODEL = Path.of("../shared/models/stories260K.gguf");

    @Test
    void answerIsThePromptThenTheEnginesTextFromHugePageMemory() throws Exception {
        Shared.require(MODEL);
        try (ModelMemory memory = ModelMemory.load(MODEL, ModelMemory.Policy.AUTO);
             GgufFile gguf = GgufFile.parse(MODEL.toString(), memory.bytes());
             Engine engine = Engine.load(gguf, EngineOptions.defaults().withThreads(1))) {
            assertEquals(Files.size(MODEL), memory.bytes().byteSize());
            StringBuilder direct = new StringBuilder("Once upon a time");
            GenerationResult expected = engine.generate("Once upon a time", SamplerSettings.greedy(), 20,
                    direct::append, () -> false);
            direct.append('\n');

            RequestLoopTest.FakeKernel kernel = new RequestLoopTest.FakeKernel();
            RequestLoop loop = new RequestLoop(kernel, new UserConversations(engine, null, 2), RequestSettings.defaults(),
                    () -> "memory: " + memory.describe() + "\n", Notifier.NONE, () -> 1, 4);
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    loop.run();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                kernel.request(1, 1000, "temperature=0 max_tokens=20", "Once upon a time\n");
                List<RequestLoopTest.Sent> answer = kernel.answer(1);
                StringBuilder got = new StringBuilder();
                List<String> pieces = new ArrayList<>();
                for (var s : answer.subList(0, answer.size() - 1)) {
                    assertEquals(Wire.MSG_TOKEN, s.type());
                    got.append(s.text());
                    pieces.add(s.text());
                }
                assertEquals(direct.toString(), got.toString());
                assertTrue(pieces.size() > 10, "streamed in pieces: " + pieces);
                var done = answer.getLast();
                assertEquals(Wire.MSG_DONE, done.type());
                // The engine's cache still holds this prompt from the direct run, but a cache handed to a
                // user starts empty (no one's prompt shows in another's counts): all 5 are processed.
                assertEquals(5, expected.promptTokens());
                assertEquals(5, Wire.doneField(done.payload(), "prompt_tokens"));
                assertEquals(20, Wire.doneField(done.payload(), "generated_tokens"));
                assertEquals(Wire.STOP_LENGTH, Wire.doneField(done.payload(), "stop_reason"));
                assertTrue(Wire.doneField(done.payload(), "millitokens_per_sec") > 0);
                assertFalse(loop.statusText().isEmpty());
                assertTrue(loop.statusText().contains("  memory: 1.13 MiB in "), loop.statusText());
            } finally {
                loop.stop();
                t.join(TimeUnit.SECONDS.toMillis(10));
            }
        }
    }
}
