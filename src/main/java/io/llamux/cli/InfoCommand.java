package io.llamux.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.llamux.gguf.GgufFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code llamux info MODEL.gguf}: what a GGUF file holds, for people or (with --json) scripts. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Show what a GGUF file holds: version, architecture, hyper-parameters, tokenizer, tensors per type.",
            "Hyper-parameters are read under the architecture's own prefix (qwen2.*, gpt2.*, ...);",
            "'-' marks a key the file does not set."})
public final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL.gguf", description = "The GGUF file.")
    Path model;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Option(names = "--tensors", description = "Also list every tensor: name, type, shape (ggml order), bytes.")
    boolean tensors;

    @Option(names = "--metadata", description = "Also list every metadata key (arrays: type, length, first elements).")
    boolean metadata;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> s;
        try (GgufFile f = GgufFile.open(model)) {
            s = ModelSummary.of(f, tensors, metadata);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(s));
        } else {
            printText(out, s);
        }
        out.flush();
        return 0;
    }

    @SuppressWarnings("unchecked")
    static void printText(PrintWriter out, Map<String, Object> s) {
        out.println(s.get("file"));
        row(out, "GGUF version", s.get("gguf_version") + "  (" + num(s.get("file_bytes")) + " bytes, " + s.get("metadata_keys")
                + " metadata keys, tensor data at byte " + num(s.get("data_start")) + ", aligned to " + s.get("alignment") + ")");
        row(out, "architecture", s.get("architecture"));
        row(out, "name", s.get("name"));
        if (s.get("file_type") != null) {
            row(out, "file type", s.get("file_type") + " (" + orDash(s.get("file_type_name")) + ")");
        }
        out.println();
        out.println("hyper-parameters (" + s.get("architecture") + ".*)");
        for (Map.Entry<String, Object> e : ((Map<String, Object>) s.get("hyper_parameters")).entrySet()) {
            row(out, e.getKey(), e.getValue());
        }
        out.println();
        Map<String, Object> tok = (Map<String, Object>) s.get("tokenizer");
        out.println("tokenizer");
        row(out, "model", tok.get("model") + (tok.get("pre") != null ? " (pre: " + tok.get("pre") + ")" : ""));
        row(out, "vocabulary", tok.get("vocab_size") == null ? null
                : tok.get("vocab_size") + " tokens" + (tok.get("merges") != null ? ", " + tok.get("merges") + " merges" : ""));
        row(out, "BOS / EOS", orDash(tok.get("bos_id")) + " / " + orDash(tok.get("eos_id")));
        if (tok.get("add_bos") != null || tok.get("add_eos") != null) {
            row(out, "add BOS / EOS", orDash(tok.get("add_bos")) + " / " + orDash(tok.get("add_eos")));
        }
        out.println();
        out.println("tensors: " + s.get("tensor_count") + " tensors, " + num(s.get("tensor_bytes")) + " bytes, "
                + num(s.get("parameters")) + " parameters");
        List<Map<String, Object>> types = (List<Map<String, Object>>) s.get("types");
        if (!types.isEmpty()) {
            out.printf("  %-8s %8s %16s%n", "type", "tensors", "bytes");
            for (Map<String, Object> t : types) {
                out.printf("  %-8s %8d %16s%s%n", t.get("type"), t.get("tensors"), num(t.get("bytes")),
                        Boolean.TRUE.equals(t.get("supported")) ? "" : "  (Llamux cannot compute with this type)");
            }
        }
        if (s.containsKey("tensors")) {
            out.println();
            for (Map<String, Object> t : (List<Map<String, Object>>) s.get("tensors")) {
                out.printf("  %-32s %-6s %-22s %14s%n", t.get("name"), t.get("type"), Arrays.toString((long[]) t.get("ne")), num(t.get("bytes")));
            }
        }
        if (s.containsKey("metadata")) {
            out.println();
            out.println("metadata");
            for (Map.Entry<String, Object> e : ((Map<String, Object>) s.get("metadata")).entrySet()) {
                Map<String, Object> v = (Map<String, Object>) e.getValue();
                String shown = v.containsKey("value") ? String.valueOf(v.get("value"))
                        : v.get("element_type") + "[" + v.get("length") + "] " + v.get("first") + ((int) v.get("length") > 8 ? "..." : "");
                if (shown.length() > 160) {
                    shown = shown.substring(0, 157) + "...";
                }
                out.printf("  %-44s %-8s %s%n", e.getKey(), v.get("type"), shown.replace("\n", "\\n"));
            }
        }
    }

    private static void row(PrintWriter out, String label, Object value) {
        out.printf("  %-24s %s%n", label, orDash(value));
    }

    private static String orDash(Object v) {
        return v == null ? "-" : String.valueOf(v);
    }

    private static String num(Object v) {
        return v instanceof Number n ? String.format("%,d", n.longValue()) : orDash(v);
    }
}
