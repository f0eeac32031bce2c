package io.llamux.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadProgressTest {
    private static final long MIB = 1L << 20;

    @Test
    void reportsBytesPercentAndRateAtMostOnceASecondAndAlwaysTheEnd() {
        List<String> status = new ArrayList<>();
        StringWriter tty = new StringWriter();
        long[] now = {0};
        LoadProgress p = new LoadProgress("copying the model into memory", status::add, new PrintWriter(tty),
                () -> now[0]);
        now[0] = 500_000_000L;
        p.advanced(256 * MIB, 1024 * MIB); // half a second in: too soon
        now[0] = 1_000_000_000L;
        p.advanced(512 * MIB, 1024 * MIB);
        now[0] = 1_200_000_000L;
        p.advanced(768 * MIB, 1024 * MIB); // too soon again
        now[0] = 2_000_000_000L;
        p.advanced(1024 * MIB, 1024 * MIB);
        assertEquals(List.of(
                "copying the model into memory: 512 of 1,024 MiB (50%), 512 MiB/s",
                "copying the model into memory: 1,024 of 1,024 MiB (100%), 512 MiB/s"), status);
        assertEquals("\rcopying the model into memory: 512 of 1,024 MiB (50%), 512 MiB/s"
                + "\rcopying the model into memory: 1,024 of 1,024 MiB (100%), 512 MiB/s\n", tty.toString());
    }

    @Test
    void withoutATerminalOrStatusSinkNothingIsWritten() {
        long[] now = {0};
        LoadProgress p = new LoadProgress("reading the model", null, null, () -> now[0]);
        now[0] = 5_000_000_000L;
        p.advanced(MIB, MIB); // must not throw: nowhere to report is a valid choice
    }

    @Test
    void readInReportsTheWholeFileInChunksEndingAtOneHundredPercent() throws Exception {
        java.nio.file.Path model = io.llamux.testing.Shared.require("models/stories260K.gguf");
        StringWriter tty = new StringWriter();
        try (GgufFile f = GgufFile.open(model)) {
            f.readIn(new LoadProgress("reading the model", null, new PrintWriter(tty), System::nanoTime));
        }
        String out = tty.toString();
        assertEquals(true, out.startsWith("\rreading the model: 1 of 1 MiB (100%), ") && out.endsWith(" MiB/s\n"), out);
    }
}
