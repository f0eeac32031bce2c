package io.llamux.daemon;

import io.llamux.sampling.SamplerSettings;

import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * How one request is generated: the daemon's defaults overridden by the user's
 * /proc/llamux/config text. The kernel passes that text through unparsed (it does no
 * floating point), so every check happens here and a mistake becomes a message the user
 * reads from /proc/llamux/generate.
 *
 * <p>Syntax: {@code key=value} pairs separated by spaces, tabs or newlines; a later pair
 * overrides an earlier one; {@code #} starts a comment to the end of its line. A value with
 * spaces is written in double quotes ({@code system="You are terse."}), where {@code \"},
 * {@code \\} and {@code \n} stand for a quote, a backslash and a newline. Names follow
 * llama.cpp's options (underscores; dashes are accepted too).
 *
 * @param seed   empty: a fresh random seed for every request
 * @param chat   for a model with a chat template: a prompt is the next user message of the
 *               user's conversation ({@code chat=on}, the default), or raw text to continue
 *               ({@code chat=off})
 * @param system the conversation's system message, or null for none
 */
public record RequestSettings(float temperature, int topK, float topP, float minP, float repeatPenalty,
                              int repeatLastN, OptionalLong seed, int maxTokens, boolean chat, String system) {

    /** Sampling settings only: chat on, no system message. */
    public RequestSettings(float temperature, int topK, float topP, float minP, float repeatPenalty,
                           int repeatLastN, OptionalLong seed, int maxTokens) {
        this(temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed, maxTokens, true, null);
    }

    /** Largest max_tokens a user may ask for; the context window limits it further. */
    public static final int MAX_TOKENS_LIMIT = 1 << 20;

    public static final List<String> KEYS = List.of(
            "temperature", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n", "seed", "max_tokens",
            "chat", "system");

    /** llama.cpp's sampling defaults, a random seed, and 256 tokens. */
    public static RequestSettings defaults() {
        SamplerSettings d = SamplerSettings.defaults(0);
        return new RequestSettings(d.temperature(), d.topK(), d.topP(), d.minP(), d.repeatPenalty(),
                d.repeatLastN(), OptionalLong.empty(), 256);
    }

    /** A setting the user wrote that cannot be used; the message names it and says why. */
    public static final class BadSettingException extends Exception {
        public BadSettingException(String message) {
            super(message);
        }
    }

    /** These settings with {@code text}'s pairs applied on top. */
    public RequestSettings apply(String text) throws BadSettingException {
        RequestSettings r = this;
        int i = 0;
        int n = text.length();
        while (i < n) {
            char ch = text.charAt(i);
            if (ch == '#') {
                while (i < n && text.charAt(i) != '\n') i++;
            } else if (Character.isWhitespace(ch)) {
                i++;
            } else {
                // One pair: up to whitespace or a comment, a quoted stretch taken whole.
                StringBuilder value = new StringBuilder();
                int start = i;
                while (i < n && !Character.isWhitespace(text.charAt(i)) && text.charAt(i) != '#') {
                    char c = text.charAt(i++);
                    if (c != '"') {
                        value.append(c);
                        continue;
                    }
                    while (true) {
                        if (i >= n) throw new BadSettingException("bad setting '" + text.substring(start)
                                .lines().findFirst().orElse("") + "': a quote that does not end");
                        char q = text.charAt(i++);
                        if (q == '"') break;
                        if (q == '\\' && i < n) {
                            char e = text.charAt(i++);
                            value.append(switch (e) {
                                case 'n' -> '\n';
                                case 't' -> '\t';
                                default -> e;
                            });
                        } else {
                            value.append(q);
                        }
                    }
                }
                r = r.with(text.substring(start, i), value.toString());
            }
        }
        return r;
    }

    /** @param pair as written (for messages), {@code text} with quotes and escapes resolved */
    private RequestSettings with(String pair, String text) throws BadSettingException {
        int eq = text.indexOf('=');
        if (eq <= 0) throw new BadSettingException("bad setting '" + pair + "': expected key=value, e.g. temperature=0.7");
        String key = text.substring(0, eq).toLowerCase(Locale.ROOT).replace('-', '_');
        String value = text.substring(eq + 1);
        return switch (key) {
            case "temperature", "temp" -> {
                float t = number(pair, value, 0, 100, "a number from 0 (greedy) to 100");
                yield new RequestSettings(t, topK, topP, minP, repeatPenalty, repeatLastN, seed, maxTokens, chat, system);
            }
            case "top_k" -> new RequestSettings(temperature, integer(pair, value, 0, Integer.MAX_VALUE,
                    "a whole number >= 0 (0: off)"), topP, minP, repeatPenalty, repeatLastN, seed, maxTokens, chat, system);
            case "top_p" -> {
                float p = number(pair, value, 0, 1, "a number from 0 to 1 (1: off)");
                if (p == 0) throw bad(pair, "a number above 0 and at most 1 (1: off)");
                yield new RequestSettings(temperature, topK, p, minP, repeatPenalty, repeatLastN, seed, maxTokens, chat, system);
            }
            case "min_p" -> new RequestSettings(temperature, topK, topP, number(pair, value, 0, 1,
                    "a number from 0 (off) to 1"), repeatPenalty, repeatLastN, seed, maxTokens, chat, system);
            case "repeat_penalty" -> {
                float p = number(pair, value, 0, 100, "a number above 0 (1: off)");
                if (p == 0) throw bad(pair, "a number above 0 (1: off)");
                yield new RequestSettings(temperature, topK, topP, minP, p, repeatLastN, seed, maxTokens, chat, system);
            }
            case "repeat_last_n" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty,
                    integer(pair, value, 0, 1 << 20, "a whole number >= 0"), seed, maxTokens, chat, system);
            case "seed" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    parseSeed(pair, value), maxTokens, chat, system);
            case "max_tokens", "n_predict" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty,
                    repeatLastN, seed, integer(pair, value, 1, MAX_TOKENS_LIMIT, "a whole number from 1 to " + MAX_TOKENS_LIMIT),
                    chat, system);
            case "chat" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed,
                    maxTokens, onOff(pair, value), system);
            case "system" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, seed,
                    maxTokens, chat, value.isEmpty() ? null : value);
            default -> throw new BadSettingException("unknown setting '" + text.substring(0, eq) + "' (known: "
                    + String.join(", ", KEYS) + ")");
        };
    }

    private static boolean onOff(String pair, String value) throws BadSettingException {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "on", "1", "true", "yes" -> true;
            case "off", "0", "false", "no" -> false;
            default -> throw bad(pair, "on or off");
        };
    }

    private static BadSettingException bad(String pair, String expected) {
        return new BadSettingException("bad value in '" + pair + "': expected " + expected);
    }

    private static float number(String pair, String value, float min, float max, String expected) throws BadSettingException {
        float f;
        try {
            // Float.parseFloat also takes "NaN", "0x1p3" and a trailing 'f'; plain decimals only.
            if (!value.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) throw new NumberFormatException();
            f = Float.parseFloat(value);
        } catch (NumberFormatException e) {
            throw bad(pair, expected);
        }
        if (!(f >= min && f <= max)) throw bad(pair, expected);
        return f;
    }

    private static int integer(String pair, String value, int min, int max, String expected) throws BadSettingException {
        try {
            int i = Integer.parseInt(value);
            if (i < min || i > max) throw bad(pair, expected);
            return i;
        } catch (NumberFormatException e) {
            throw bad(pair, expected);
        }
    }

    private static OptionalLong parseSeed(String pair, String value) throws BadSettingException {
        if (value.equals("random") || value.equals("-1")) return OptionalLong.empty();
        try {
            return OptionalLong.of(Long.parseUnsignedLong(value));
        } catch (NumberFormatException e) {
            throw bad(pair, "a whole number from 0 to 18446744073709551615, or 'random'");
        }
    }

    /** The engine's sampler settings; a random seed is drawn now when none was set. */
    public SamplerSettings sampler(LongSupplier randomSeed) {
        return new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                seed.orElseGet(randomSeed));
    }

    /**
     * The settings as the user could write them. For the daemon's defaults in its log and status:
     * never called on a user's settings, whose system message is their text.
     */
    public String describe() {
        return String.format(Locale.ROOT, "temperature=%s top_k=%d top_p=%s min_p=%s repeat_penalty=%s repeat_last_n=%d seed=%s max_tokens=%d chat=%s",
                temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                seed.isPresent() ? Long.toUnsignedString(seed.getAsLong()) : "random", maxTokens, chat ? "on" : "off")
                + (system == null ? "" : " system=\"" + system.replace("\\", "\\\\").replace("\"", "\\\"")
                        .replace("\n", "\\n").replace("\t", "\\t") + "\"");
    }
}
