package io.llamux.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.chat.ChatFormats;
import io.llamux.chat.ChatMessage;
import io.llamux.gguf.GgufFile;
import io.llamux.sampling.SamplerSettings;
import io.llamux.testing.Shared;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A generation whose prompt starts with what the cache holds processes only the rest, and gives
 * exactly what a fresh engine gives for the whole prompt: the next turn of a conversation is
 * the one-shot answer to the whole conversation.
 */
class CacheReuseTest {
    private static List<Integer> greedy(Engine e, int[] prompt, int n, GenerationResult[] result) {
        List<Integer> ids = new ArrayList<>();
        result[0] = e.generate(prompt, SamplerSettings.greedy(), n, ids::add, s -> { }, () -> false);
        return ids;
    }

    @Test
    void theSecondTurnProcessesOnlyItsNewTokensAndAnswersAsOneShot() throws Exception {
        Path model = Shared.require("models/synthetic-chat-Q8_0.gguf");
        try (GgufFile f = GgufFile.open(model);
             Engine e = Engine.load(f, EngineOptions.defaults().withThreads(2));
             Engine fresh = Engine.load(f, EngineOptions.defaults().withThreads(2))) {
            Conversation c = new Conversation(e, ChatFormats.forModel(f, e.tokenizer(), null), "Be brief.");
            SamplerSettings greedy = SamplerSettings.greedy();
            Conversation.Reply first = c.reply("Hello, who are you?", greedy, 12, s -> { }, () -> false);
            assertEquals(0, first.result().reusedTokens());
            Conversation.Reply second = c.reply("And what can you do?", greedy, 12, s -> { }, () -> false);
            assertTrue(second.result().reusedTokens() >= first.promptLength(),
                    "the first prompt is still cached: " + second.result());
            assertEquals(second.promptLength(), second.result().promptTokens() + second.result().reusedTokens());

            // One shot: the whole conversation (the first answer included) on an engine with an empty cache.
            List<ChatMessage> whole = c.messages().subList(0, c.messages().size() - 1);
            Conversation oneShot = new Conversation(fresh, c.format(), null);
            whole.forEach(oneShot::add);
            Conversation.Reply expected = oneShot.answer(greedy, 12, s -> { }, () -> false);
            assertEquals(0, expected.result().reusedTokens());
            assertEquals(expected.promptLength(), second.promptLength());
            assertEquals(expected.text(), second.text());
        }
    }

    @Test
    void aRepeatedPromptGivesTheSameTokens() throws Exception {
        Path model = Shared.require("models/stories260K.gguf");
        try (GgufFile f = GgufFile.open(model); Engine e = Engine.load(f, EngineOptions.defaults().withThreads(1))) {
            GenerationResult[] r = new GenerationResult[1];
            int[] prompt = e.tokenize("Once upon a time, there was a little");
            List<Integer> a = greedy(e, prompt, 40, r);
            assertEquals(0, r[0].reusedTokens());
            List<Integer> b = greedy(e, prompt, 40, r);
            assertEquals(prompt.length - 1, r[0].reusedTokens(), "all but the last prompt token");
            assertEquals(1, r[0].promptTokens());
            assertEquals(a, b);
            // A longer prompt through the generated text: the cache covers prompt + answer.
            int[] longer = new int[prompt.length + 20];
            System.arraycopy(prompt, 0, longer, 0, prompt.length);
            for (int i = 0; i < 20; i++) {
                longer[prompt.length + i] = a.get(i);
            }
            List<Integer> c = greedy(e, longer, 20, r);
            assertEquals(longer.length - 1, r[0].reusedTokens());
            assertEquals(a.subList(20, 40), c);
        }
    }
}
