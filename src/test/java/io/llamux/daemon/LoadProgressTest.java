package io.llamux.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadProgressTest {
    @Test
    void reportsBytesPercentAndRateAtMostOnceASecondAndAlwaysTheEnd() {
        List<String> status = new ArrayList<>();
        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        long[] now = {0};
        LoadProgress p = new LoadProgress(status::add, new PrintStream(tty, true, StandardCharsets.UTF_8), () -> now[0]);
        long mib = 1L << 20;
        now[0] = 500_000_000L;
        p.copied(256 * mib, 1024 * mib); // half a second in: too soon
        now[0] = 1_000_000_000L;
        p.copied(512 * mib, 1024 * mib);
        now[0] = 1_200_000_000L;
        p.copied(768 * mib, 1024 * mib); // too soon again
        now[0] = 2_000_000_000L;
        p.copied(1024 * mib, 1024 * mib);
        assertEquals(List.of(
                "STATUS=copying the model into memory: 512 of 1,024 MiB (50%), 512 MiB/s",
                "STATUS=copying the model into memory: 1,024 of 1,024 MiB (100%), 512 MiB/s"), status);
        assertEquals("\rcopying the model into memory: 512 of 1,024 MiB (50%), 512 MiB/s"
                + "\rcopying the model into memory: 1,024 of 1,024 MiB (100%), 512 MiB/s\n",
                tty.toString(StandardCharsets.UTF_8));
    }
}
