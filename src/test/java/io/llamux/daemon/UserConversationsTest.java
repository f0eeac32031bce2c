package io.llamux.daemon;

import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatFormats;
import io.llamux.chat.ChatMessage;
import io.llamux.engine.Conversation;
import io.llamux.engine.Engine;
import io.llamux.engine.EngineOptions;
import io.llamux.gguf.GgufFile;
import io.llamux.sampling.SamplerSettings;
import io.llamux.testing.ScriptedChatModel;
import io.llamux.testing.Shared;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conversations through the daemon: each uid's prompts are the turns of its own conversation,
 * its KV cache kept between them (only new tokens processed), evicted under the bound and
 * rebuilt to the same answer; chat=off is raw text; /reset starts over; an overflowing
 * conversation drops its oldest turns, keeping the system message, and says so.
 *
 * <p>Most tests use {@link ScriptedChatModel}, whose every answer is " Hello!" (2 tokens, then
 * end of turn), so token counts are exact; eviction is checked on synthetic-chat-Q8_0, whose
 * random weights give answers that depend on the whole conversation.
 */
class UserConversationsTest {
    @TempDir
    static Path dir;

    private GgufFile gguf;
    private Engine engine;
    private ChatFormat format;

    @BeforeEach
    void load() throws Exception {
        gguf = GgufFile.open(ScriptedChatModel.write(dir));
        engine = Engine.load(gguf, EngineOptions.defaults().withThreads(1));
        format = ChatFormats.forModel(gguf, engine.tokenizer(), null);
    }

    @AfterEach
    void close() {
        engine.close();
        gguf.close();
    }

    /** What one request streamed, and its result. */
    record Said(String text, Answerer.Answer answer) {
        int processed() {
            return answer.result().promptTokens();
        }
    }

    private static Said ask(UserConversations u, int uid, String settings, String prompt) throws Exception {
        StringBuilder text = new StringBuilder();
        RequestSettings s = RequestSettings.defaults().apply("temperature=0 " + settings);
        Answerer.Answer a = u.answer(uid, prompt, s, s.sampler(() -> 1), text::append, () -> false);
        return new Said(text.toString(), a);
    }

    /** The token count of {@code messages} rendered with an assistant turn opened. */
    private int promptLength(List<ChatMessage> messages) {
        return ChatFormats.tokenize(engine.tokenizer(), format.render(messages, true)).length;
    }

    private static List<ChatMessage> msgs(String... roleText) {
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < roleText.length; i += 2) out.add(new ChatMessage(roleText[i], roleText[i + 1]));
        return out;
    }

    @Test
    void twoTurnsThroughTheRequestLoopContinueOneConversationAndDoneCountsOnlyNewTokens() throws Exception {
        UserConversations u = new UserConversations(engine, format, 2);
        RequestLoopTest.FakeKernel kernel = new RequestLoopTest.FakeKernel();
        RequestLoop loop = new RequestLoop(kernel, u, RequestSettings.defaults(), () -> "", Notifier.NONE, () -> 1, 4);
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                loop.run();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try {
            kernel.request(1, 1000, "temperature=0", "Hi there\n");
            List<RequestLoopTest.Sent> first = kernel.answer(1);
            kernel.request(2, 1000, "temperature=0", "How are you?\n");
            List<RequestLoopTest.Sent> second = kernel.answer(2);
            assertEquals(ScriptedChatModel.ANSWER + "\n", text(first), "the answer alone, no echo of the message");
            assertEquals(ScriptedChatModel.ANSWER + "\n", text(second));
            assertEquals(msgs("user", "Hi there", "assistant", ScriptedChatModel.ANSWER, "user", "How are you?",
                    "assistant", ScriptedChatModel.ANSWER), u.messages(1000));

            int p1 = promptLength(msgs("user", "Hi there"));
            int p2 = promptLength(u.messages(1000).subList(0, 3));
            long done1 = Wire.doneField(first.getLast().payload(), "prompt_tokens");
            long done2 = Wire.doneField(second.getLast().payload(), "prompt_tokens");
            assertEquals(p1, done1, "turn 1 processes its whole prompt");
            assertEquals(2, Wire.doneField(first.getLast().payload(), "generated_tokens"));
            // The cache holds turn 1's prompt and the 2 answer tokens: turn 2 processes the rest only.
            assertEquals(p2 - (p1 + 2), done2, "turn 2 processes only its new tokens (" + p1 + ", " + p2 + ")");
            assertTrue(done2 < p2 - p1 + 3);
        } finally {
            loop.stop();
            t.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertEquals(List.of(), kernel.violations);
    }

    private static String text(List<RequestLoopTest.Sent> replies) {
        StringBuilder b = new StringBuilder();
        for (var s : replies.subList(0, replies.size() - 1)) {
            assertEquals(Wire.MSG_TOKEN, s.type());
            b.append(s.text());
        }
        assertEquals(Wire.MSG_DONE, replies.getLast().type());
        return b.toString();
    }

    @Test
    void eachUidHasItsOwnConversationAndAHandedOverCacheRevealsNothing() throws Exception {
        UserConversations u = new UserConversations(engine, format, 1);
        Said a1 = ask(u, 1000, "", "Hi there");
        ask(u, 1000, "", "Second message");
        // uid 1001 says what 1000 said first; with one cache it takes 1000's, which is cleared:
        // all of its prompt is processed, so its counts tell nothing of 1000's conversation.
        Said b1 = ask(u, 1001, "", "Hi there");
        assertEquals(a1.processed(), b1.processed());
        assertEquals(0, b1.answer().result().reusedTokens());
        assertEquals(msgs("user", "Hi there", "assistant", ScriptedChatModel.ANSWER), u.messages(1001));
        assertEquals(4, u.messages(1000).size(), "1000's conversation is untouched");
        assertEquals("Second message", u.messages(1000).get(2).content());
        assertTrue(b1.answer().detail().contains("2 messages"), b1.answer().detail());
    }

    @Test
    void chatOffIsRawTextAndLeavesTheConversationAlone() throws Exception {
        UserConversations u = new UserConversations(engine, format, 2);
        ask(u, 1000, "", "Hi there");
        Said raw = ask(u, 1000, "chat=off max_tokens=3", "Once upon a time");
        assertTrue(raw.text().startsWith("Once upon a time"), "the prompt, then its continuation: " + raw.text());
        assertEquals(promptLengthRaw("Once upon a time"), raw.processed() + raw.answer().result().reusedTokens());
        assertTrue(raw.answer().detail().contains("raw text"), raw.answer().detail());
        assertEquals(2, u.messages(1000).size(), "the raw prompt is no turn of the conversation");
        Said next = ask(u, 1000, "", "Again");
        assertEquals(ScriptedChatModel.ANSWER, next.text());
        assertEquals(4, u.messages(1000).size());
    }

    private int promptLengthRaw(String text) {
        return engine.tokenize(text).length;
    }

    @Test
    void resetStartsOverAndTheSystemMessageComesFromTheSettings() throws Exception {
        UserConversations u = new UserConversations(engine, format, 2);
        ask(u, 1000, "system=\"Be brief.\"", "Hi there");
        assertEquals(msgs("system", "Be brief.", "user", "Hi there", "assistant", ScriptedChatModel.ANSWER),
                u.messages(1000));
        Said reset = ask(u, 1000, "system=\"Be brief.\"", "/reset");
        assertEquals("llamux: conversation reset", reset.text());
        assertEquals(List.of(), u.messages(1000));
        Said again = ask(u, 1000, "", "Something else");
        assertEquals(ScriptedChatModel.ANSWER, again.text());
        assertEquals(msgs("user", "Something else", "assistant", ScriptedChatModel.ANSWER), u.messages(1000),
                "a new conversation, without the old turns or the system message no longer set");
        assertEquals(promptLength(msgs("user", "Something else")),
                again.processed() + again.answer().result().reusedTokens());
    }

    @Test
    void aConversationOutgrowingTheContextDropsItsOldestTurnsKeepingTheSystemMessageAndSaysSo() throws Exception {
        UserConversations u = new UserConversations(engine, format, 2);
        String settings = "max_tokens=16 system=\"Be brief.\"";
        String longMessage = "word ".repeat(115).strip();
        ask(u, 1000, settings, "First " + longMessage);
        assertTrue(promptLength(u.messages(1000)) < 256 - 16);
        Said second = ask(u, 1000, settings, "Second " + longMessage);
        String note = "llamux: the conversation outgrew the context of 256 tokens: dropped its 2 oldest messages"
                + " (the system message stays)\n";
        assertEquals(note + ScriptedChatModel.ANSWER, second.text(), "the note comes first, then the answer");
        assertEquals(msgs("system", "Be brief.", "user", "Second " + longMessage, "assistant", ScriptedChatModel.ANSWER),
                u.messages(1000));
        assertTrue(second.answer().detail().contains("dropped 2 oldest messages"), second.answer().detail());
    }

    @Test
    void anEvictedConversationIsRebuiltAndGivesTheSameGreedyAnswer() throws Exception {
        Path model = Shared.require("models/synthetic-chat-Q8_0.gguf");
        try (GgufFile f = GgufFile.open(model);
             Engine one = Engine.load(f, EngineOptions.defaults().withThreads(2));
             Engine two = Engine.load(f, EngineOptions.defaults().withThreads(2));
             Engine fresh = Engine.load(f, EngineOptions.defaults().withThreads(2))) {
            ChatFormat fmt = ChatFormats.forModel(f, one.tokenizer(), null);
            UserConversations tight = new UserConversations(one, fmt, 1);
            UserConversations roomy = new UserConversations(two, fmt, 2);
            String s = "max_tokens=12";
            for (UserConversations u : List.of(tight, roomy)) {
                ask(u, 1000, s, "Hello, who are you?");
                ask(u, 1001, s, "Tell me about the sea.");
            }
            Said rebuilt = ask(tight, 1000, s, "And what can you do?");
            Said kept = ask(roomy, 1000, s, "And what can you do?");
            assertEquals(0, rebuilt.answer().result().reusedTokens(), "uid 1001 took the only cache");
            assertTrue(rebuilt.answer().detail().contains("rebuilt after eviction"), rebuilt.answer().detail());
            assertTrue(kept.answer().result().reusedTokens() > 10, "kept: " + kept.answer().result());
            assertEquals(kept.text(), rebuilt.text());
            assertEquals(kept.processed() + kept.answer().result().reusedTokens(), rebuilt.processed());
            // And both are what a one-shot generation of the whole conversation gives.
            List<ChatMessage> whole = tight.messages(1000);
            Conversation c = new Conversation(fresh, fmt, null);
            whole.subList(0, whole.size() - 1).forEach(c::add);
            assertEquals(rebuilt.text(), c.answer(SamplerSettings.greedy(), 12, x -> { }, () -> false).text());
            assertTrue(!rebuilt.text().isEmpty());
        }
    }
}
