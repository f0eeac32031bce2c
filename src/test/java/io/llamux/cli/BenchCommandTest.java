package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.llamux.engine.BenchResult;
import io.llamux.engine.Benchmark;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** llamux bench's options and output formats, on fixed figures (nothing is timed). */
class BenchCommandTest {
    private static BenchCommand parse(String... args) {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void listsAndPairsBecomeTestsInLlamaBenchOrder() {
        BenchCommand c = parse("-m", "a.gguf,b.gguf", "-p", "128,0,512", "-n", "64", "-pg", "32,16", "-t", "2,1",
                "-o", "jsonl");
        assertEquals(List.of(new Benchmark.Test(128, 0), new Benchmark.Test(512, 0), new Benchmark.Test(0, 64),
                new Benchmark.Test(32, 16)), c.tests());
        assertEquals(List.of(2, 1), c.threadCounts());
        assertEquals(2, c.modelPaths().size());
        assertEquals(BenchOutput.Format.jsonl, c.format);
        assertEquals("pp32+tg16", c.tests().get(3).name());
    }

    @Test
    void aMalformedPairIsAUsageError() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("bench", "-m", "x.gguf", "-pg", "3"));
        assertTrue(err.toString().contains("-pg takes two positive numbers"), err.toString());
    }

    private static BenchResult result() {
        return new BenchResult("m.gguf", "llama 1B Q4_0", 636_725_856L, 1_100_048_384L, 512, 2,
                new Benchmark.Test(128, 0), Instant.parse("2026-12-02T05:00:00Z"),
                new long[] {2_000_000_000L, 4_000_000_000L}, 250_000_000L, 700L << 20);
    }

    private static String print(BenchOutput.Format f) {
        StringWriter s = new StringWriter();
        BenchOutput o = BenchOutput.of(f, new PrintWriter(s));
        o.row(result());
        o.row(result());
        o.end();
        return s.toString();
    }

    @Test
    void jsonCarriesLlamaBenchFieldNamesAndFigures() throws Exception {
        JsonNode a = new ObjectMapper().readTree(print(BenchOutput.Format.json));
        assertEquals(2, a.size());
        JsonNode r = a.get(0);
        assertEquals("llama 1B Q4_0", r.get("model_type").asText());
        assertEquals(636_725_856L, r.get("model_size").asLong());
        assertEquals(1_100_048_384L, r.get("model_n_params").asLong());
        assertEquals(2, r.get("n_threads").asInt());
        assertEquals(128, r.get("n_prompt").asInt());
        assertEquals(0, r.get("n_gen").asInt());
        // 128 tokens in 2 s and 4 s: 64 and 32 t/s; mean 48, sample sd sqrt(2 * 16^2) = 22.627417.
        assertEquals(48.0, r.get("avg_ts").asDouble(), 1e-9);
        assertEquals(22.627417, r.get("stddev_ts").asDouble(), 1e-6);
        assertEquals(3_000_000_000L, r.get("avg_ns").asLong());
        assertEquals(250.0, r.get("load_ms").asDouble(), 1e-9);
        assertEquals(700L << 20, r.get("peak_rss_bytes").asLong());
        assertEquals(2, r.get("samples_ns").size());
    }

    @Test
    void jsonlIsOneObjectALineAndCsvHasAHeader() throws Exception {
        String[] lines = print(BenchOutput.Format.jsonl).split("\n");
        assertEquals(2, lines.length);
        assertEquals(48.0, new ObjectMapper().readTree(lines[1]).get("avg_ts").asDouble(), 1e-9);
        String[] csv = print(BenchOutput.Format.csv).split("\n");
        assertEquals(3, csv.length);
        List<String> header = List.of(csv[0].split(","));
        String[] values = csv[1].split(",");
        assertEquals("\"128\"", values[header.indexOf("n_prompt")]);
        assertEquals("\"48.0\"", values[header.indexOf("avg_ts")]);
    }

    @Test
    void markdownIsLlamaBenchsTable() {
        String md = print(BenchOutput.Format.md);
        String[] lines = md.split("\n");
        assertTrue(lines[0].matches("\\| model +\\| +size \\| +params \\| backend +\\| threads \\| +test \\| +t/s \\|.*"), lines[0]);
        assertTrue(lines[2].contains("| llama 1B Q4_0 ") && lines[2].contains("607.23 MiB")
                && lines[2].contains("1.10 B") && lines[2].contains("pp128") && lines[2].contains("48.00 ± 22.63"), lines[2]);
        assertTrue(md.contains("build: llamux"), md);
    }
}
