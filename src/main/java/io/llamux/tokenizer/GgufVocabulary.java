package io.llamux.tokenizer;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufMetadata;
import java.util.ArrayList;
import java.util.List;

/** Reads a {@link Vocabulary} from the {@code tokenizer.ggml.*} keys of a GGUF file. */
final class GgufVocabulary {
    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String PAD_ID = "tokenizer.ggml.padding_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    private GgufVocabulary() {
    }

    static Vocabulary read(GgufFile file) {
        GgufMetadata md = file.metadata();
        String where = file.source();
        String modelName = md.getString(MODEL, null);
        if (modelName == null) {
            throw new IllegalArgumentException(where + ": no tokenizer (the file has no '" + MODEL + "' key)");
        }
        Vocabulary.Model model = switch (modelName) {
            case "llama" -> Vocabulary.Model.SPM;
            case "gpt2" -> Vocabulary.Model.BPE;
            case "no_vocab", "none" -> throw new IllegalArgumentException(where + ": the file has no vocabulary ("
                    + MODEL + " = '" + modelName + "')");
            default -> throw new IllegalArgumentException(where + ": unsupported tokenizer " + MODEL + " = '" + modelName
                    + "' (Llamux supports 'llama' SentencePiece and 'gpt2' byte-level BPE)");
        };
        String[] tokens = md.getStringArray(TOKENS);
        if (tokens == null) {
            throw new IllegalArgumentException(where + ": the file has no token list ('" + TOKENS + "')");
        }
        Vocabulary.Builder b = Vocabulary.builder(model, tokens)
                .scores(md.getFloatArray(SCORES))
                .tokenTypes(md.getIntArray(TOKEN_TYPE))
                .modelName(md.getString("general.name", null))
                .pre(md.getString(PRE, null));
        if (model == Vocabulary.Model.BPE) {
            b.merges(readMerges(md, where));
            BpePreTokenizer pre = BpePreTokenizer.forName(md.getString(PRE, null));
            b.addBos(pre != null && pre.addsBosByDefault()); // the file's add_bos_token, below, wins
        }
        // An id the file gives outside the vocabulary (stories260K writes padding = 2^32-1)
        // leaves the default in place, as llama.cpp does.
        specialId(md, BOS_ID, tokens.length, b::bos);
        specialId(md, EOS_ID, tokens.length, b::eos);
        specialId(md, EOT_ID, tokens.length, b::eot);
        specialId(md, EOM_ID, tokens.length, b::eom);
        specialId(md, UNK_ID, tokens.length, b::unk);
        specialId(md, PAD_ID, tokens.length, b::pad);
        if (md.has(ADD_BOS)) {
            b.addBos(md.getBoolean(ADD_BOS, true));
        }
        if (md.has(ADD_EOS)) {
            b.addEos(md.getBoolean(ADD_EOS, false));
        }
        if (md.has(ADD_SPACE_PREFIX)) {
            b.addSpacePrefix(md.getBoolean(ADD_SPACE_PREFIX, true));
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static void specialId(GgufMetadata md, String key, int n, java.util.function.IntConsumer set) {
        if (!md.has(key)) {
            return;
        }
        long id = md.getLong(key, -1);
        if (id >= 0 && id < n) {
            set.accept((int) id);
        }
    }

    private static List<String[]> readMerges(GgufMetadata md, String where) {
        String[] lines = md.getStringArray(MERGES);
        if (lines == null) {
            throw new IllegalArgumentException(where + ": a gpt2 BPE vocabulary needs merges ('" + MERGES + "')");
        }
        List<String[]> merges = new ArrayList<>(lines.length);
        for (String line : lines) {
            // The separator is the first space after the first character, as llama.cpp splits.
            int space = line.indexOf(' ', 1);
            merges.add(space < 0 ? new String[] {"", ""} : new String[] {line.substring(0, space), line.substring(space + 1)});
        }
        return merges;
    }
}
