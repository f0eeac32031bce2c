package io.llamux.cli;

import io.llamux.gguf.FileTypes;
import io.llamux.gguf.GgufArray;
import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufMetadata;
import io.llamux.gguf.GgufValueType;
import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.GgmlType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code llamux info} reports about a GGUF file, as nested ordered maps: the same tree
 * is printed as JSON ({@code --json}) or as text. Values are what the file holds; a key the
 * file lacks is null (the model loader, not this report, decides defaults).
 */
final class ModelSummary {
    /** Hyper-parameters as {@code <architecture>.<suffix>}: (report name, key suffix). */
    static final String[][] HYPER_PARAMETERS = {
        {"context_length", "context_length"},
        {"embedding_length", "embedding_length"},
        {"block_count", "block_count"},
        {"feed_forward_length", "feed_forward_length"},
        {"head_count", "attention.head_count"},
        {"head_count_kv", "attention.head_count_kv"},
        {"key_length", "attention.key_length"},
        {"value_length", "attention.value_length"},
        {"rope_dimension_count", "rope.dimension_count"},
        {"rope_freq_base", "rope.freq_base"},
        {"layer_norm_rms_epsilon", "attention.layer_norm_rms_epsilon"},
        {"layer_norm_epsilon", "attention.layer_norm_epsilon"},
        {"vocab_size", "vocab_size"},
    };

    private ModelSummary() {
    }

    static Map<String, Object> of(GgufFile f, boolean withTensors, boolean withMetadata) {
        GgufMetadata m = f.metadata();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", f.source());
        r.put("file_bytes", f.size());
        r.put("gguf_version", f.version());
        r.put("architecture", f.architecture());
        r.put("name", scalar(m, "general.name"));
        r.put("file_type", scalar(m, "general.file_type"));
        r.put("file_type_name", FileTypes.of(f));
        r.put("alignment", f.alignment());
        r.put("data_start", f.dataStart());
        r.put("metadata_keys", m.size());

        Map<String, Object> hp = new LinkedHashMap<>();
        for (String[] p : HYPER_PARAMETERS) {
            String key = m.archKey(p[1]);
            hp.put(p[0], key == null ? null : json(m.get(key), m.type(key)));
        }
        r.put("hyper_parameters", hp);

        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("model", scalar(m, "tokenizer.ggml.model"));
        tok.put("pre", scalar(m, "tokenizer.ggml.pre"));
        GgufArray tokens = m.get("tokenizer.ggml.tokens") instanceof GgufArray a ? a : null;
        tok.put("vocab_size", tokens == null ? null : tokens.size());
        GgufArray merges = m.get("tokenizer.ggml.merges") instanceof GgufArray a ? a : null;
        tok.put("merges", merges == null ? null : merges.size());
        tok.put("bos_id", scalar(m, "tokenizer.ggml.bos_token_id"));
        tok.put("eos_id", scalar(m, "tokenizer.ggml.eos_token_id"));
        tok.put("unk_id", scalar(m, "tokenizer.ggml.unknown_token_id"));
        tok.put("pad_id", scalar(m, "tokenizer.ggml.padding_token_id"));
        tok.put("add_bos", scalar(m, "tokenizer.ggml.add_bos_token"));
        tok.put("add_eos", scalar(m, "tokenizer.ggml.add_eos_token"));
        tok.put("chat_template", m.has("tokenizer.chat_template"));
        r.put("tokenizer", tok);

        Map<GgmlType, long[]> byType = new TreeMap<>();
        long total = 0;
        for (TensorInfo t : f.tensors()) {
            long[] cb = byType.computeIfAbsent(t.type(), k -> new long[2]);
            cb[0]++;
            cb[1] += t.byteSize();
            total += t.byteSize();
        }
        r.put("tensor_count", f.tensors().size());
        r.put("tensor_bytes", total);
        r.put("parameters", f.parameterCount());
        List<Map<String, Object>> types = new ArrayList<>();
        for (Map.Entry<GgmlType, long[]> e : byType.entrySet()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("type", e.getKey().name());
            row.put("supported", e.getKey().supported);
            row.put("tensors", e.getValue()[0]);
            row.put("bytes", e.getValue()[1]);
            types.add(row);
        }
        r.put("types", types);

        if (withTensors) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (TensorInfo t : f.tensors()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("name", t.name());
                row.put("type", t.type().name());
                row.put("ne", t.ne());
                row.put("offset", f.dataStart() + t.offset());
                row.put("bytes", t.byteSize());
                list.add(row);
            }
            r.put("tensors", list);
        }
        if (withMetadata) {
            Map<String, Object> md = new LinkedHashMap<>();
            for (String k : m.keys()) {
                Map<String, Object> v = new LinkedHashMap<>();
                v.put("type", m.type(k).name());
                Object val = m.get(k);
                if (val instanceof GgufArray a) {
                    v.put("element_type", a.elementType().name());
                    v.put("length", a.size());
                    v.put("first", head(a, 8));
                } else {
                    v.put("value", json(val, m.type(k)));
                }
                md.put(k, v);
            }
            r.put("metadata", md);
        }
        return r;
    }

    /** A scalar value in JSON-friendly form, or null when absent or not a scalar. */
    private static Object scalar(GgufMetadata m, String key) {
        Object v = m.get(key);
        return v instanceof GgufArray ? null : json(v, m.type(key));
    }

    /** UINT64 above 2^63-1 becomes its unsigned decimal text; arrays become short lists. */
    static Object json(Object v, GgufValueType type) {
        if (v instanceof Long l && type == GgufValueType.UINT64 && l < 0) {
            return Long.toUnsignedString(l);
        }
        if (v instanceof GgufArray a) {
            return head(a, 64);
        }
        return v;
    }

    private static List<Object> head(GgufArray a, int n) {
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < Math.min(n, a.size()); i++) {
            out.add(json(a.get(i), a.elementType()));
        }
        return out;
    }
}
