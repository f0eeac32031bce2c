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
 * overrides an earlier one; {@code #} starts a comment to the end of its line. Names follow
 * llama.cpp's options (underscores; dashes are accepted too).
 *
 * @param seed empty: a fresh random seed for every request
 */
public record RequestSettings(float temperature, int topK, float topP, float minP, float repeatPenalty,
                              int repeatLastN, OptionalLong seed, int maxTokens) {

    /** Largest max_tokens a user may ask for; the context window limits it further. */
    public static final int MAX_TOKENS_LIMIT = 1 << 20;

    public static final List<String> KEYS = List.of(
            "temperature", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n", "seed", "max_tokens");

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
        for (String line : text.split("\n", -1)) {
            int hash = line.indexOf('#');
            String content = hash >= 0 ? line.substring(0, hash) : line;
            for (String pair : content.trim().split("[ \t\r\f]+")) {
                if (!pair.isEmpty()) r = r.with(pair);
            }
        }
        return r;
    }

    private RequestSettings with(String pair) throws BadSettingException {
        int eq = pair.indexOf('=');
        if (eq <= 0) throw new BadSettingException("bad setting '" + pair + "': expected key=value, e.g. temperature=0.7");
        String key = pair.substring(0, eq).toLowerCase(Locale.ROOT).replace('-', '_');
        String value = pair.substring(eq + 1);
        return switch (key) {
            case "temperature", "temp" -> {
                float t = number(pair, value, 0, 100, "a number from 0 (greedy) to 100");
                yield new RequestSettings(t, topK, topP, minP, repeatPenalty, repeatLastN, seed, maxTokens);
            }
            case "top_k" -> new RequestSettings(temperature, integer(pair, value, 0, Integer.MAX_VALUE,
                    "a whole number >= 0 (0: off)"), topP, minP, repeatPenalty, repeatLastN, seed, maxTokens);
            case "top_p" -> {
                float p = number(pair, value, 0, 1, "a number from 0 to 1 (1: off)");
                if (p == 0) throw bad(pair, "a number above 0 and at most 1 (1: off)");
                yield new RequestSettings(temperature, topK, p, minP, repeatPenalty, repeatLastN, seed, maxTokens);
            }
            case "min_p" -> new RequestSettings(temperature, topK, topP, number(pair, value, 0, 1,
                    "a number from 0 (off) to 1"), repeatPenalty, repeatLastN, seed, maxTokens);
            case "repeat_penalty" -> {
                float p = number(pair, value, 0, 100, "a number above 0 (1: off)");
                if (p == 0) throw bad(pair, "a number above 0 (1: off)");
                yield new RequestSettings(temperature, topK, topP, minP, p, repeatLastN, seed, maxTokens);
            }
            case "repeat_last_n" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty,
                    integer(pair, value, 0, 1 << 20, "a whole number >= 0"), seed, maxTokens);
            case "seed" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    parseSeed(pair, value), maxTokens);
            case "max_tokens", "n_predict" -> new RequestSettings(temperature, topK, topP, minP, repeatPenalty,
                    repeatLastN, seed, integer(pair, value, 1, MAX_TOKENS_LIMIT, "a whole number from 1 to " + MAX_TOKENS_LIMIT));
            default -> throw new BadSettingException("unknown setting '" + pair.substring(0, eq) + "' (known: "
                    + String.join(", ", KEYS) + ")");
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

    /** The settings as the user could write them (for logs and status; no user text in it). */
    public String describe() {
        return String.format(Locale.ROOT, "temperature=%s top_k=%d top_p=%s min_p=%s repeat_penalty=%s repeat_last_n=%d seed=%s max_tokens=%d",
                temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                seed.isPresent() ? Long.toUnsignedString(seed.getAsLong()) : "random", maxTokens);
    }
}
