package io.llamux.daemon;

import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatMessage;
import io.llamux.chat.TemplateException;
import io.llamux.engine.Conversation;
import io.llamux.engine.Engine;
import io.llamux.engine.GenerationResult;
import io.llamux.engine.StopReason;
import io.llamux.sampling.SamplerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The daemon's answers: for a model with a chat format, each prompt is the next user message of
 * its uid's conversation ({@code chat=on}, the default) and the answer continues it; with
 * {@code chat=off}, or a model without a format, a prompt is raw text, answered as
 * {@code llamux run} answers it (the prompt, then its continuation).
 *
 * <p>Each uid has its own conversation, and a KV cache from the {@link CachePool} while it can
 * keep one, so that a follow-up processes only its new tokens. A uid whose cache went to
 * another user gets its conversation rebuilt from its messages (the whole of it processed
 * again; the answer is the same). The prompt {@value #RESET} starts the conversation over, as
 * in {@code llamux run --chat}. When a conversation outgrows the context its oldest messages
 * are dropped (the system message stays): the answer's first line says so, and the log.
 *
 * <p>Used by the generating thread only. Nothing here logs text.
 */
public final class UserConversations implements Answerer {
    private static final Logger log = LoggerFactory.getLogger(UserConversations.class);
    /** The prompt that starts a conversation over (the command of {@code llamux run --chat}). */
    public static final String RESET = "/reset";

    private final Engine engine;
    private final ChatFormat format;
    private final CachePool caches;
    private final Map<Integer, Conversation> conversations = new HashMap<>();

    /**
     * @param format    the model's chat format, or null: every prompt is raw text
     * @param maxCaches the most KV caches kept at once, one per user (at least 1: the engine's own)
     */
    public UserConversations(Engine engine, ChatFormat format, int maxCaches) {
        this.engine = engine;
        this.format = format;
        this.caches = new CachePool(maxCaches, engine.ownCacheSlot(), engine::newCacheSlot);
    }

    /** How many KV caches {@code bytes} of memory hold for this engine: at least one. */
    public static int cachesFor(Engine engine, long bytes) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / engine.ownCacheSlot().byteSize()));
    }

    /** Whether prompts can be conversations (the model has a chat format). */
    public boolean chat() {
        return format != null;
    }

    @Override
    public Answer answer(int uid, String prompt, RequestSettings settings, SamplerSettings sampler,
                         Consumer<String> onText, BooleanSupplier cancelled) {
        boolean chat = format != null && settings.chat();
        if (chat && prompt.strip().equals(RESET)) {
            Conversation c = conversations.remove(uid);
            onText.accept("llamux: conversation reset");
            return new Answer(new GenerationResult(0, 0, StopReason.EOS, 0, 0),
                    ", conversation reset (" + (c == null ? 0 : c.messages().size()) + " messages forgotten)");
        }
        CachePool.Lease lease = caches.slotFor(uid);
        if (lease.evictedUid() >= 0) {
            log.info("uid {}'s KV cache goes to uid {} (all {} in use): uid {}'s conversation is rebuilt from its "
                    + "messages when it comes back", lease.evictedUid(), uid, caches.capacity(), lease.evictedUid());
        }
        if (!chat) {
            GenerationResult r = Completion.echoing(prompt, onText, out -> engine.generate(lease.slot(),
                    engine.tokenize(prompt), sampler, settings.maxTokens(), id -> { }, out, cancelled));
            return new Answer(r, ", raw text, " + r.reusedTokens() + " cached");
        }
        Conversation c = conversations.computeIfAbsent(uid, u -> new Conversation(engine, format, null));
        boolean rebuilt = !lease.kept() && !c.messages().isEmpty();
        c.cacheSlot(lease.slot());
        c.system(settings.system());
        int context = engine.info().contextSize();
        c.onDroppedMessages(n -> onText.accept("llamux: the conversation outgrew the context of " + context
                + " tokens: dropped its " + n + " oldest messages" + (c.system() != null ? " (the system message stays)" : "")
                + "\n"));
        Conversation.Reply reply;
        try {
            reply = c.reply(prompt, sampler, settings.maxTokens(), onText, cancelled);
        } catch (TemplateException e) {
            throw new IllegalArgumentException("template error (" + format.name() + "): " + e.getMessage(), e);
        }
        GenerationResult r = reply.result();
        return new Answer(r, String.format(", chat: %d messages, prompt %d tokens, %d cached%s%s",
                c.messages().size(), reply.promptLength(), r.reusedTokens(),
                rebuilt ? ", rebuilt after eviction" : "",
                reply.droppedMessages() > 0 ? ", dropped " + reply.droppedMessages() + " oldest messages" : ""));
    }

    /** uid's conversation so far (system message first), for tests; empty when it has none. */
    List<ChatMessage> messages(int uid) {
        Conversation c = conversations.get(uid);
        return c == null ? List.of() : c.messages();
    }
}
