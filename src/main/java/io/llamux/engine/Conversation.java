package io.llamux.engine;

import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatFormats;
import io.llamux.chat.ChatMessage;
import io.llamux.sampling.SamplerSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * A conversation with an instruct model: an optional system message and the turns so far. Each
 * {@link #reply} renders the whole conversation with the chat format, tokenizes it (special
 * tokens from the format only) and generates the assistant's answer until end of turn. The
 * engine's cache still holds the previous turns, so only the new tokens are processed, and the
 * answer is exactly what a one-shot generation from the whole conversation gives.
 *
 * <p>When the conversation no longer fits the context (with room left for an answer), its
 * oldest turns are dropped, whole user-assistant exchanges at a time, keeping the system
 * message; the reply says how many messages went. Not thread-safe.
 */
public final class Conversation {
    private final Engine engine;
    private final ChatFormat format;
    private String system;
    private final List<ChatMessage> turns = new ArrayList<>();
    private CacheSlot slot;
    private IntConsumer onDropped = n -> { };

    /**
     * What one turn gave.
     *
     * @param text            the answer (end-of-turn token not included)
     * @param droppedMessages how many of the oldest messages were dropped to fit the context
     * @param promptLength    the rendered conversation's length in tokens
     */
    public record Reply(String text, GenerationResult result, int droppedMessages, int promptLength) {
    }

    /** @param system the system message, or null for none */
    public Conversation(Engine engine, ChatFormat format, String system) {
        this.engine = engine;
        this.format = format;
        this.system = system;
        this.slot = engine.ownCacheSlot();
    }

    /**
     * Generates on {@code slot}'s cache from now on (the engine's own by default): a server
     * gives each user's conversation a slot, so that the next turn finds its prefix there.
     */
    public void cacheSlot(CacheSlot slot) {
        this.slot = slot;
    }

    /**
     * Called with the number of messages dropped to fit the context, after dropping and before
     * the answer is generated (so that a note can precede the answer's text).
     */
    public void onDroppedMessages(IntConsumer listener) {
        this.onDropped = listener;
    }

    public ChatFormat format() {
        return format;
    }

    /** Sets (or with null removes) the system message; the turns stay. */
    public void system(String text) {
        this.system = text;
    }

    public String system() {
        return system;
    }

    /** Forgets every turn; the system message stays. */
    public void reset() {
        turns.clear();
    }

    /** Adds a message as if it had been said (a conversation loaded from a file); a system one sets the system message. */
    public void add(ChatMessage message) {
        if (message.role().equals("system") && turns.isEmpty()) {
            system = message.content();
        } else {
            turns.add(message);
        }
    }

    /** The conversation as the format sees it: the system message (if any), then the turns. */
    public List<ChatMessage> messages() {
        List<ChatMessage> all = new ArrayList<>(turns.size() + 1);
        if (system != null) {
            all.add(new ChatMessage("system", system));
        }
        all.addAll(turns);
        return all;
    }

    /** The token ids of the conversation so far, ending with the opening of an assistant turn. */
    public int[] promptTokens() {
        return ChatFormats.tokenize(engine.tokenizer(), format.render(messages(), true));
    }

    /**
     * Adds the user's message and generates the answer, streaming its text to {@code onText};
     * the answer becomes part of the conversation (also when cut short). When the format refuses
     * the conversation or the engine the prompt, the message is taken back out.
     *
     * @param maxTokens at most this many answer tokens; below 0: until end of turn or a full context
     * @throws io.llamux.chat.TemplateException when the format refuses the conversation
     * @throws IllegalArgumentException         when even the last message alone does not fit the context
     */
    public Reply reply(String userText, SamplerSettings settings, int maxTokens, Consumer<String> onText,
                       BooleanSupplier cancelled) {
        ChatMessage message = new ChatMessage("user", userText);
        turns.add(message);
        try {
            return answer(settings, maxTokens, onText, cancelled);
        } catch (RuntimeException e) {
            if (!turns.isEmpty() && turns.getLast() == message) {
                turns.removeLast();
            }
            throw e;
        }
    }

    /** Generates the assistant's answer to the conversation as it stands (e.g. one loaded ending with a user message). */
    public Reply answer(SamplerSettings settings, int maxTokens, Consumer<String> onText, BooleanSupplier cancelled) {
        int before = turns.size();
        int context = engine.info().contextSize();
        int room = Math.max(1, maxTokens > 0 ? Math.min(maxTokens, context / 2) : context / 4);
        int[] prompt = promptTokens();
        while (prompt.length + room > context && dropOldestExchange()) {
            prompt = promptTokens();
        }
        int dropped = before - turns.size();
        if (dropped > 0) {
            onDropped.accept(dropped);
        }
        StringBuilder answer = new StringBuilder();
        GenerationResult result = engine.generate(slot, prompt, settings, maxTokens, id -> { }, piece -> {
            answer.append(piece);
            onText.accept(piece);
        }, cancelled);
        turns.add(new ChatMessage("assistant", answer.toString()));
        return new Reply(answer.toString(), result, dropped, prompt.length);
    }

    /** The last message, or null. */
    public ChatMessage last() {
        return turns.isEmpty() ? null : turns.getLast();
    }

    /** Drops the first turn and what follows up to the next user message; false if only the last message is left. */
    private boolean dropOldestExchange() {
        if (turns.size() <= 1) {
            return false;
        }
        int end = 1;
        while (end < turns.size() - 1 && !turns.get(end).role().equals("user")) {
            end++;
        }
        turns.subList(0, end).clear();
        return true;
    }
}
