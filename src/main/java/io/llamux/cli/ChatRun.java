package io.llamux.cli;

import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatMessage;
import io.llamux.chat.TemplateException;
import io.llamux.engine.Conversation;
import io.llamux.engine.Engine;
import io.llamux.engine.GenerationResult;
import io.llamux.engine.StopReason;
import io.llamux.sampling.SamplerSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code llamux run --chat}: one templated turn, or a conversation read from standard input a
 * message per line. Answers go to standard output, one per line pair; everything else (speeds,
 * resets, dropped turns) to standard error, so a pipe gets only the answers.
 */
final class ChatRun {
    static final String RESET = "/reset";

    private final Engine engine;
    private final ChatFormat format;
    private final SamplerSettings settings;
    private final int maxTokens;
    private final PrintWriter out;
    private final PrintWriter err;
    private final AtomicBoolean cancelled;

    ChatRun(Engine engine, ChatFormat format, SamplerSettings settings, int maxTokens, PrintWriter out,
            PrintWriter err, AtomicBoolean cancelled) {
        this.engine = engine;
        this.format = format;
        this.settings = settings;
        this.maxTokens = maxTokens;
        this.out = out;
        this.err = err;
        this.cancelled = cancelled;
    }

    /**
     * @param system     -sys, or null
     * @param start      a conversation to continue (--messages), or null
     * @param oneMessage -p / -f: answer this message and stop; null for the conversation on {@code in}
     * @return the exit status
     */
    int run(String system, List<ChatMessage> start, String oneMessage, InputStream in) throws IOException {
        Conversation c = new Conversation(engine, format, null);
        if (start != null) {
            start.forEach(c::add);
        }
        if (system != null) {
            c.system(system);
        }
        if (oneMessage != null) {
            return finish(turn(c, oneMessage));
        }
        if (c.last() != null && c.last().role().equals("user")) {
            return finish(turn(c, null));
        }
        boolean console = System.console() != null && in == System.in;
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        while (true) {
            if (console) {
                out.print("> ");
                out.flush();
            }
            String message = readMessage(reader);
            if (message == null) {
                return 0;
            }
            if (message.isBlank()) {
                continue;
            }
            if (message.strip().equals(RESET)) {
                c.reset();
                err.println("llamux: conversation reset" + (c.system() != null ? " (the system message stays)" : ""));
                err.flush();
                continue;
            }
            try {
                GenerationResult r = turn(c, message);
                if (r.stopReason() == StopReason.CANCELLED) {
                    return 130;
                }
            } catch (IllegalArgumentException e) {
                // The template refused this message, or it is too long: say so and go on.
                Main.report(err, e);
            }
        }
    }

    private static int finish(GenerationResult r) {
        return r.stopReason() == StopReason.CANCELLED ? 130 : 0;
    }

    /** One message (null: answer the conversation as it is), streamed, then its figures on stderr. */
    private GenerationResult turn(Conversation c, String message) {
        Conversation.Reply reply;
        try {
            reply = message == null
                    ? c.answer(settings, maxTokens, this::print, cancelled::get)
                    : c.reply(message, settings, maxTokens, this::print, cancelled::get);
        } catch (TemplateException e) {
            throw new IllegalArgumentException("template error (" + format.name() + "): " + e.getMessage(), e);
        }
        out.println();
        out.flush();
        if (reply.droppedMessages() > 0) {
            err.printf("llamux: the conversation outgrew the context of %d tokens: dropped its %d oldest messages%s%n",
                    engine.info().contextSize(), reply.droppedMessages(), c.system() != null ? " (the system message stays)" : "");
        }
        GenerationResult r = reply.result();
        err.printf("llamux: prompt %d tokens (%d new, %d cached), %.2f tokens/s; generated %d tokens, %.2f tokens/s; "
                        + "stopped: %s%n",
                reply.promptLength(), r.promptTokens(), r.reusedTokens(), r.promptTokensPerSecond(), r.generatedTokens(),
                r.generatedTokensPerSecond(), r.stopReason() == StopReason.EOS ? "end of turn" : r.stopReason().describe());
        err.flush();
        return r;
    }

    private void print(String piece) {
        out.print(piece);
        out.flush();
    }

    /** A line; a line ending in a backslash continues on the next (the backslash becomes a newline). Null at the end. */
    static String readMessage(BufferedReader reader) throws IOException {
        StringBuilder message = null;
        String line;
        while ((line = reader.readLine()) != null) {
            if (message == null) {
                message = new StringBuilder();
            }
            if (line.endsWith("\\")) {
                message.append(line, 0, line.length() - 1).append('\n');
                continue;
            }
            return message.append(line).toString();
        }
        return message == null ? null : message.toString();
    }
}
