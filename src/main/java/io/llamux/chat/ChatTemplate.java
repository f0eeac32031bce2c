package io.llamux.chat;

import io.llamux.chat.JinjaNodes.Out;
import io.llamux.chat.JinjaNodes.Scope;
import io.llamux.chat.JinjaNodes.Stmt;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code tokenizer.chat_template}, rendered as Hugging Face transformers renders it: jinja2
 * with trim_blocks and lstrip_blocks, loop controls, {@code raise_exception}, {@code tojson},
 * {@code strftime_now} and the variables {@code messages}, {@code bos_token}, {@code eos_token},
 * {@code add_generation_prompt}.
 *
 * <p>Like llama.cpp, a template that does not render a system message (it ignores it or raises an
 * error for it) gets the system message folded into the first user message, joined by a newline.
 *
 * <p>The interpreter is our own (lexer, parser, evaluator of the jinja subset chat templates use)
 * rather than a Java Jinja library, for two reasons: exact jinja2/Python semantics (whitespace
 * control, scoping, Undefined, Python string methods, transformers' tojson), and taint tracking,
 * which a library cannot give: every string remembers which characters came from a message, so
 * the prompt can be tokenized with special tokens parsed only in the template's own text.
 */
public final class ChatTemplate {
    private final String source;
    private final List<Stmt> body;
    private final boolean supportsSystemRole;

    private ChatTemplate(String source) {
        this.source = source;
        this.body = JinjaParser.parse(source);
        this.supportsSystemRole = detectSystemRole();
    }

    /** Parses a template; a syntax error is a {@link TemplateException}. */
    public static ChatTemplate parse(String source) {
        return new ChatTemplate(source);
    }

    public String source() {
        return source;
    }

    /**
     * This template as a {@link ChatFormat} with its {@code bos_token} and {@code eos_token}
     * (the model's token texts; null for none), called {@code name} in messages.
     */
    public ChatFormat bind(String name, String bosToken, String eosToken) {
        ChatTemplate template = this;
        return new ChatFormat() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
                return template.render(messages, bosToken, eosToken, addGenerationPrompt);
            }
        };
    }

    /** Whether the template renders a system message itself (otherwise it is folded). */
    public boolean supportsSystemRole() {
        return supportsSystemRole;
    }

    // llama.cpp (minja's chat_template caps): render a system needle and a user message; if the
    // needle is not in the output (or rendering fails) the template has no system role.
    private boolean detectSystemRole() {
        String needle = "<System Needle>";
        try {
            String out = renderRaw(List.of(new ChatMessage("system", needle), new ChatMessage("user", "<User Needle>")),
                    "", "", false).text();
            return out.contains(needle);
        } catch (TemplateException | ClassCastException | IndexOutOfBoundsException | NullPointerException e) {
            return false;
        }
    }

    /**
     * Renders a conversation. Template errors (including {@code raise_exception}) are
     * {@link TemplateException}s with the template's message.
     */
    public RenderedPrompt render(List<ChatMessage> messages, String bosToken, String eosToken,
            boolean addGenerationPrompt) {
        return renderRaw(supportsSystemRole ? messages : foldSystem(messages), bosToken, eosToken, addGenerationPrompt);
    }

    /** llama.cpp's polyfill: system messages go, newline-joined, in front of the next user message. */
    static List<ChatMessage> foldSystem(List<ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>();
        String pending = null;
        for (ChatMessage m : messages) {
            if (m.role().equals("system")) {
                pending = pending == null ? m.content() : pending + "\n" + m.content();
                continue;
            }
            if (pending != null) {
                if (m.role().equals("user")) {
                    out.add(new ChatMessage("user", pending + (m.content().isEmpty() ? "" : "\n" + m.content())));
                    pending = null;
                    continue;
                }
                out.add(new ChatMessage("user", pending));
                pending = null;
            }
            out.add(m);
        }
        if (pending != null) {
            out.add(new ChatMessage("user", pending));
        }
        return out;
    }

    private RenderedPrompt renderRaw(List<ChatMessage> messages, String bosToken, String eosToken,
            boolean addGenerationPrompt) {
        Scope root = new Scope(null);
        List<Object> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            Map<String, Object> obj = new LinkedHashMap<>();
            obj.put("role", TStr.of(m.role()));
            obj.put("content", TStr.tainted(m.content()));
            msgs.add(obj);
        }
        root.vars.put("messages", msgs);
        root.vars.put("bos_token", TStr.of(bosToken == null ? "" : bosToken));
        root.vars.put("eos_token", TStr.of(eosToken == null ? "" : eosToken));
        root.vars.put("add_generation_prompt", addGenerationPrompt);
        root.vars.put("raise_exception", (JinjaValues.Func) (args, kw) -> {
            throw new TemplateException(args.isEmpty() ? "raise_exception" : JinjaValues.str(args.get(0)).s);
        });
        root.vars.put("strftime_now", (JinjaValues.Func) (args, kw) ->
                TStr.of(JinjaValues.strftime(ZonedDateTime.now(), JinjaValues.str(args.get(0)).s)));
        root.vars.put("range", (JinjaValues.Func) (args, kw) -> {
            long start = 0;
            long stop;
            long step = 1;
            if (args.size() == 1) {
                stop = JinjaValues.toLong(args.get(0));
            } else {
                start = JinjaValues.toLong(args.get(0));
                stop = JinjaValues.toLong(args.get(1));
                if (args.size() > 2) {
                    step = JinjaValues.toLong(args.get(2));
                }
            }
            if (step == 0) {
                throw new TemplateException("range() arg 3 must not be zero");
            }
            List<Object> out = new ArrayList<>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
                out.add(i);
            }
            return out;
        });
        root.vars.put("namespace", (JinjaValues.Func) (args, kw) -> {
            JinjaValues.Namespace ns = new JinjaValues.Namespace();
            for (Object a : args) {
                if (a instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> ns.put(String.valueOf(k), v));
                }
            }
            ns.putAll(kw);
            return ns;
        });
        root.vars.put("dict", (JinjaValues.Func) (args, kw) -> new LinkedHashMap<>(kw));
        Out out = new Out();
        Scope top = new Scope(root);
        try {
            JinjaNodes.execAll(body, top, out);
        } catch (JinjaNodes.BreakSignal | JinjaNodes.ContinueSignal e) {
            throw new TemplateException("break or continue outside a loop");
        } catch (StackOverflowError e) {
            throw new TemplateException("template recursion too deep");
        }
        return toPrompt(out);
    }

    private static RenderedPrompt toPrompt(Out out) {
        String text = out.sb.toString();
        List<RenderedPrompt.Piece> pieces = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            boolean t = out.taint.get(i);
            int j = t ? out.taint.nextClearBit(i) : out.taint.nextSetBit(i);
            if (j < 0 || j > text.length()) {
                j = text.length();
            }
            pieces.add(new RenderedPrompt.Piece(text.substring(i, j), t));
            i = j;
        }
        return new RenderedPrompt(text, List.copyOf(pieces));
    }
}
