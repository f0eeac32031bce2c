package io.llamux.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.llamux.engine.BenchResult;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code llamux bench}'s output in llama-bench's formats and field names: {@code md} (its
 * table, plus load time and peak resident memory), {@code json} (one array), {@code jsonl} (one
 * object a line) and {@code csv} (a header, then quoted values). Rows are printed as tests
 * finish; {@link #end} closes what needs closing.
 */
abstract class BenchOutput {
    /** The formats, as -o spells them. */
    enum Format { md, json, jsonl, csv }

    static final String VERSION = "llamux " + version();

    protected final PrintWriter out;
    private int rows;

    BenchOutput(PrintWriter out) {
        this.out = out;
    }

    static BenchOutput of(Format f, PrintWriter out) {
        return switch (f) {
            case md -> new Markdown(out);
            case json -> new Json(out, false);
            case jsonl -> new Json(out, true);
            case csv -> new Csv(out);
        };
    }

    final void row(BenchResult r) {
        print(r, rows++ == 0);
        out.flush();
    }

    abstract void print(BenchResult r, boolean first);

    /** Rows printed so far. */
    final int rows() {
        return rows;
    }

    void end() {
        out.flush();
    }

    /**
     * The fields of one result, in llama-bench's order and spelling, with llamux's two
     * additions at the end: {@code load_ms} (the model load) and {@code peak_rss_bytes}.
     */
    static Map<String, Object> fields(BenchResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("build_commit", VERSION);
        m.put("cpu_info", CpuInfo.NAME);
        m.put("backends", "CPU");
        m.put("model_filename", r.modelFilename());
        m.put("model_type", r.modelType());
        m.put("model_size", r.modelSize());
        m.put("model_n_params", r.modelParams());
        m.put("n_batch", r.batch());
        m.put("n_ubatch", r.batch());
        m.put("n_threads", r.threads());
        m.put("n_prompt", r.test().nPrompt());
        m.put("n_gen", r.test().nGen());
        m.put("n_depth", 0);
        m.put("test_time", r.testTime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        m.put("avg_ns", r.avgNs());
        m.put("stddev_ns", r.stddevNs());
        m.put("avg_ts", round(r.avgTs(), 6));
        m.put("stddev_ts", round(r.stddevTs(), 6));
        m.put("samples_ns", r.samplesNs());
        List<Double> ts = new ArrayList<>();
        for (double t : r.samplesTs()) {
            ts.add(round(t, 4));
        }
        m.put("samples_ts", ts);
        m.put("load_ms", round(r.loadNanos() / 1e6, 3));
        m.put("peak_rss_bytes", r.peakRssBytes());
        return m;
    }

    private static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    private static String version() {
        String v = BenchOutput.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** The first "model name" of /proc/cpuinfo, as llama-bench's cpu_info. */
    private static final class CpuInfo {
        static final String NAME = read();

        private static String read() {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("model name")) {
                        return line.substring(line.indexOf(':') + 1).trim();
                    }
                }
            } catch (java.io.IOException | java.io.UncheckedIOException e) {
                return "";
            }
            return "";
        }
    }

    /** llama-bench's markdown table; size in GiB/MiB, params in B/M as it prints them. */
    static final class Markdown extends BenchOutput {
        private static final String FORMAT = "| %-30s | %10s | %10s | %-10s | %7s | %15s | %20s | %8s | %10s |%n";

        Markdown(PrintWriter out) {
            super(out);
        }

        @Override
        void print(BenchResult r, boolean first) {
            if (first) {
                out.printf(FORMAT, "model", "size", "params", "backend", "threads", "test", "t/s", "load s", "peak RSS");
                out.printf("| %s | %s: | %s: | %s | %s: | %s: | %s: | %s: | %s: |%n", "-".repeat(30), "-".repeat(9),
                        "-".repeat(9), "-".repeat(10), "-".repeat(6), "-".repeat(14), "-".repeat(19), "-".repeat(7),
                        "-".repeat(9));
            }
            out.printf(FORMAT, r.modelType(), bytes(r.modelSize()), params(r.modelParams()), "CPU", r.threads(),
                    r.test().name(), String.format(Locale.ROOT, "%.2f ± %.2f", r.avgTs(), r.stddevTs()),
                    String.format(Locale.ROOT, "%.2f", r.loadNanos() / 1e9), bytes(r.peakRssBytes()));
        }

        @Override
        void end() {
            if (rows() > 0) { // a failure before the first row leaves stdout empty
                out.println();
                out.println("build: " + VERSION);
            }
            super.end();
        }

        static String bytes(long b) {
            return b >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30))
                    : String.format(Locale.ROOT, "%.2f MiB", b / (double) (1L << 20));
        }

        static String params(long p) {
            return p >= 1_000_000_000 ? String.format(Locale.ROOT, "%.2f B", p / 1e9)
                    : String.format(Locale.ROOT, "%.2f M", p / 1e6);
        }
    }

    /** A JSON array of objects (pretty, as llama-bench), or one compact object a line. */
    static final class Json extends BenchOutput {
        private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        private static final ObjectMapper COMPACT = new ObjectMapper();
        private final boolean lines;
        private boolean any;

        Json(PrintWriter out, boolean lines) {
            super(out);
            this.lines = lines;
        }

        @Override
        void print(BenchResult r, boolean first) {
            try {
                if (lines) {
                    out.println(COMPACT.writeValueAsString(fields(r)));
                } else {
                    out.print(first ? "[\n" : ",\n");
                    out.print(PRETTY.writeValueAsString(fields(r)).indent(2).stripTrailing());
                    any = true;
                }
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e); // maps of strings and numbers always serialise
            }
        }

        @Override
        void end() {
            if (!lines) {
                out.println(any ? "\n]" : "[]");
            }
            super.end();
        }
    }

    /** A header line, then every value in double quotes (arrays are left out, as llama-bench does). */
    static final class Csv extends BenchOutput {
        Csv(PrintWriter out) {
            super(out);
        }

        @Override
        void print(BenchResult r, boolean first) {
            Map<String, Object> f = fields(r);
            f.remove("samples_ns");
            f.remove("samples_ts");
            if (first) {
                out.println(String.join(",", f.keySet()));
            }
            List<String> values = new ArrayList<>();
            for (Object v : f.values()) {
                values.add('"' + String.valueOf(v).replace("\"", "\"\"") + '"');
            }
            out.println(String.join(",", values));
        }
    }
}
