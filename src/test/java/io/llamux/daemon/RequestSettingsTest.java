package io.llamux.daemon;

import io.llamux.sampling.SamplerSettings;
import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestSettingsTest {
    private final RequestSettings base = RequestSettings.defaults();

    @Test
    void emptyTextKeepsTheDefaults() throws Exception {
        assertEquals(base, base.apply(""));
        assertEquals(base, base.apply("  \n\t \n# only a comment\n"));
    }

    @Test
    void everyKeyIsParsedAndLaterPairsWin() throws Exception {
        RequestSettings r = base.apply("temperature=0.7 top_k=20\ntop_p=0.9\tmin_p=0.1\n"
                + "repeat_penalty=1.1 repeat_last_n=32 seed=42 max_tokens=100 max_tokens=120");
        assertEquals(new RequestSettings(0.7f, 20, 0.9f, 0.1f, 1.1f, 32, OptionalLong.of(42), 120), r);
        SamplerSettings s = r.sampler(() -> { throw new AssertionError("seed was set"); });
        assertEquals(new SamplerSettings(0.7f, 20, 0.9f, 0.1f, 1.1f, 32, 42), s);
    }

    @Test
    void greedyAndCommentsAndDashes() throws Exception {
        RequestSettings r = base.apply("temperature=0 # greedy\nmax-tokens=8");
        assertTrue(r.sampler(() -> 7).isGreedy());
        assertEquals(8, r.maxTokens());
    }

    @Test
    void randomSeedIsDrawnPerRequest() throws Exception {
        RequestSettings r = base.apply("seed=5 seed=random");
        assertEquals(OptionalLong.empty(), r.seed());
        assertEquals(99, r.sampler(() -> 99).seed());
        assertEquals(-1L, base.apply("seed=18446744073709551615").seed().getAsLong());
    }

    @Test
    void unknownKeyIsNamed() {
        var e = assertThrows(RequestSettings.BadSettingException.class, () -> base.apply("temperature=1 colour=blue"));
        assertTrue(e.getMessage().startsWith("unknown setting 'colour'"), e.getMessage());
        assertTrue(e.getMessage().contains("temperature, top_k"), e.getMessage());
    }

    @Test
    void badValuesAreNamedWithWhatIsExpected() {
        String[][] cases = {
                {"temperature=hot", "'temperature=hot'"}, {"temperature=-1", "'temperature=-1'"},
                {"temperature=NaN", "'temperature=NaN'"}, {"top_k=1.5", "'top_k=1.5'"},
                {"top_p=0", "'top_p=0'"}, {"top_p=1.5", "'top_p=1.5'"}, {"min_p=2", "'min_p=2'"},
                {"repeat_penalty=0", "'repeat_penalty=0'"}, {"seed=abc", "'seed=abc'"},
                {"max_tokens=0", "'max_tokens=0'"}, {"max_tokens=99999999999", "'max_tokens=99999999999'"},
                {"temperature=", "'temperature='"},
        };
        for (String[] c : cases) {
            var e = assertThrows(RequestSettings.BadSettingException.class, () -> base.apply(c[0]), c[0]);
            assertTrue(e.getMessage().startsWith("bad value in " + c[1] + ": expected "), e.getMessage());
        }
        var e = assertThrows(RequestSettings.BadSettingException.class, () -> base.apply("greedy"));
        assertEquals("bad setting 'greedy': expected key=value, e.g. temperature=0.7", e.getMessage());
    }

    @Test
    void describeRoundTrips() throws Exception {
        RequestSettings r = base.apply("temperature=0.5 seed=3 max_tokens=9");
        assertEquals(r, base.apply(r.describe()));
        RequestSettings random = base.apply("temperature=0.25");
        assertEquals(random, RequestSettings.defaults().apply(random.describe()));
    }

    @Test
    void chatAndAQuotedSystemMessage() throws Exception {
        assertTrue(base.chat());
        assertEquals(null, base.system());
        RequestSettings r = base.apply("chat=off system=\"You are terse. # not a comment\" temp=0 # a comment");
        assertEquals(false, r.chat());
        assertEquals("You are terse. # not a comment", r.system());
        assertEquals(0f, r.temperature());
        assertEquals("Say \"hi\"\\\nthen stop", base.apply("system=\"Say \\\"hi\\\"\\\\\\nthen stop\"").system());
        assertEquals("pirate", base.apply("system=pirate").system());
        assertEquals(null, base.apply("system=pirate system=").system(), "empty: no system message");
        assertTrue(base.apply("chat=off chat=on").chat());
        RequestSettings described = base.apply("chat=off system=\"Two\nlines \\\"quoted\\\"\"");
        assertEquals(described, base.apply(described.describe()));
    }

    @Test
    void badChatValuesAndOpenQuotesAreNamed() {
        var e = assertThrows(RequestSettings.BadSettingException.class, () -> base.apply("chat=maybe"));
        assertEquals("bad value in 'chat=maybe': expected on or off", e.getMessage());
        e = assertThrows(RequestSettings.BadSettingException.class, () -> base.apply("temp=0 system=\"no end\nmore"));
        assertEquals("bad setting 'system=\"no end': a quote that does not end", e.getMessage());
    }
}
