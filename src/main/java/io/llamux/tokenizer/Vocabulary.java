package io.llamux.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A tokenizer vocabulary: token texts, scores, attributes, special token ids and the
 * tokenizer flags, plus the lookups the tokenizers need.
 *
 * <p>Token texts are kept as their UTF-8 bytes. Lookups go through a map keyed by those bytes
 * spelled as an ISO-8859-1 string (one char per byte): that key is exact for any byte
 * sequence, including the invalid UTF-8 that raw standard input may hold, and substrings of
 * it are cheap.
 *
 * <p>Besides what the file says, {@link Builder#build()} applies the rules llama.cpp applies
 * when it loads a vocabulary (llama-vocab.cpp, {@code llama_vocab::impl::load}), because they
 * change how text is split and printed: control-looking tokens such as {@code <|end|>} get the
 * CONTROL attribute, end-of-generation tokens are found by their text, and phi-3 special tokens
 * swallow the spaces after them.
 */
public final class Vocabulary {
    /** No token (llama.cpp's LLAMA_TOKEN_NULL). */
    public static final int NONE = -1;

    /** Which tokenizer algorithm the vocabulary is for ({@code tokenizer.ggml.model}). */
    public enum Model {
        /** SentencePiece with scores and byte fallback ({@code llama}). */
        SPM("llama"),
        /** Byte-level BPE with merges ({@code gpt2}). */
        BPE("gpt2");

        public final String ggufName;

        Model(String ggufName) {
            this.ggufName = ggufName;
        }
    }

    // Texts llama.cpp recognises as end-of-generation (its special_eog_ids text list).
    private static final Set<String> EOG_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<｜end▁of▁sentence｜>", "[e~[");
    // The end-of-turn candidates, searched when the file names no EOT id.
    private static final Set<String> EOT_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
            "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    // Fill-in-the-middle token candidates: llama.cpp marks the first one of each kind CONTROL,
    // and the pad/repo/file-separator ones end generation.
    private static final List<Set<String>> FIM_TEXTS = List.of(
            Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
                    "<|code_prefix|>", "<|prefix|>"),
            Set.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
                    "<|code_suffix|>", "<|suffix|>"),
            Set.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
                    "<|code_middle|>", "<|middle|>"),
            Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"),
            Set.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"),
            Set.of("<|file_sep|>"));
    private static final int FIM_FIRST_EOG_KIND = 3; // pad, repo and file separator end generation

    private final Model model;
    private final String pre;
    private final String[] texts;
    private final byte[][] textBytes;
    private final float[] scores;
    private final int[] attrs;
    private final Map<String, Integer> idByKey;
    private final int bos;
    private final int eos;
    private final int eot;
    private final int eom;
    private final int unk;
    private final int pad;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final int[] byteTokens;
    private final int[] specialTokens;
    private final BitSet endOfGeneration;
    private final int maxTokenBytes;
    private final List<String[]> merges;

    private Vocabulary(Builder b) {
        int n = b.tokens.length;
        if (n == 0) {
            throw new IllegalArgumentException("the vocabulary has no tokens");
        }
        if (b.scores != null && b.scores.length < n) {
            throw new IllegalArgumentException("the vocabulary has " + n + " tokens but only " + b.scores.length + " scores");
        }
        if (b.tokenTypes != null && b.tokenTypes.length < n) {
            throw new IllegalArgumentException("the vocabulary has " + n + " tokens but only " + b.tokenTypes.length + " token types");
        }
        this.model = b.model;
        this.pre = b.pre;
        this.merges = b.merges;
        this.texts = new String[n];
        this.textBytes = new byte[n][];
        this.scores = new float[n];
        this.attrs = new int[n];
        this.idByKey = HashMap.newHashMap(n);
        int maxLen = 0;
        for (int i = 0; i < n; i++) {
            String text = b.tokens[i];
            if (text == null || text.isEmpty()) {
                text = "[EMPTY_" + i + "]"; // as llama.cpp does, so the token cannot match empty text
            }
            texts[i] = text;
            textBytes[i] = text.getBytes(StandardCharsets.UTF_8);
            maxLen = Math.max(maxLen, textBytes[i].length);
            Integer previous = idByKey.putIfAbsent(key(textBytes[i], 0, textBytes[i].length), i);
            if (previous != null) {
                throw new IllegalArgumentException("duplicate token in vocabulary: '" + text + "' has ids " + previous + " and " + i);
            }
            scores[i] = b.scores == null ? 0f : b.scores[i];
            attrs[i] = b.tokenTypes == null ? TokenAttr.NORMAL : TokenAttr.fromType(b.tokenTypes[i]);
        }
        this.maxTokenBytes = maxLen;
        this.bos = inRange(b.bos, n);
        this.eos = inRange(b.eos, n);
        this.unk = inRange(b.unk, n);
        this.pad = inRange(b.pad, n);
        this.addBos = b.addBos;
        this.addEos = b.addEos;
        this.addSpacePrefix = b.addSpacePrefix;
        if (addBos && bos == NONE) {
            throw new IllegalArgumentException("the vocabulary asks for a BOS token (add_bos_token) but has no valid BOS id");
        }
        if (addEos && eos == NONE) {
            throw new IllegalArgumentException("the vocabulary asks for an EOS token (add_eos_token) but has no valid EOS id");
        }

        this.eot = b.eot != NONE ? inRange(b.eot, n) : markFirst(EOT_TEXTS);
        this.eom = b.eom != NONE ? inRange(b.eom, n) : markFirst(Set.of("<|eom_id|>"));
        this.endOfGeneration = new BitSet(n);
        for (int kind = 0; kind < FIM_TEXTS.size(); kind++) {
            int id = markFirst(FIM_TEXTS.get(kind));
            if (id != NONE && kind >= FIM_FIRST_EOG_KIND) {
                endOfGeneration.set(id);
            }
        }
        for (int i = 0; i < n; i++) {
            if (EOG_TEXTS.contains(texts[i])) {
                endOfGeneration.set(i);
                attrs[i] |= TokenAttr.CONTROL;
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id != NONE) {
                endOfGeneration.set(id);
            }
        }
        // llama.cpp's two workarounds: in gpt-oss (o200k_harmony) and solar-open vocabularies
        // <|end|> closes a message, not the answer (which ends at <|return|> or a call); in
        // gemma4 and paddleocr ones </s> is ordinary text.
        int end = eogId("<|end|>");
        boolean call = eogId("<|call|>") != NONE || eogId("<|calls|>") != NONE;
        if (end != NONE && call && (eogId("<|return|>") != NONE || eogId("<|flush|>") != NONE)) {
            endOfGeneration.clear(end);
            attrs[end] = TokenAttr.USER_DEFINED;
        }
        int closeS = eogId("</s>");
        if (closeS != NONE && eogId("<|tool_response>") != NONE) {
            endOfGeneration.clear(closeS);
            attrs[closeS] = TokenAttr.NORMAL;
        }

        this.specialTokens = buildSpecialTokens();
        if (b.modelName != null) {
            applyNameRules(b.modelName.toLowerCase(Locale.ROOT));
        }
        this.byteTokens = buildByteTokens();
    }

    /** The end-of-generation token with this text, or NONE. */
    private int eogId(String text) {
        for (int i = endOfGeneration.nextSetBit(0); i >= 0; i = endOfGeneration.nextSetBit(i + 1)) {
            if (texts[i].equals(text)) {
                return i;
            }
        }
        return NONE;
    }

    /** Marks the lowest-id token whose text is in the set as CONTROL and returns its id, or NONE. */
    private int markFirst(Set<String> candidates) {
        for (int i = 0; i < texts.length; i++) {
            if (candidates.contains(texts[i])) {
                attrs[i] |= TokenAttr.CONTROL;
                return i;
            }
        }
        return NONE;
    }

    /**
     * Tokens whose text is cut out of the input before the tokenizer runs (control, user-defined
     * and unknown), longest text first so that a longer special token wins over a shorter one
     * it contains.
     */
    private int[] buildSpecialTokens() {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            if ((attrs[i] & (TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN)) != 0) {
                ids.add(i);
            }
        }
        ids.sort(Comparator.<Integer>comparingInt(id -> -textBytes[id].length).thenComparingInt(id -> id));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Per-model attribute rules llama.cpp keys on general.name (its "phi-3"/"phi3" rule). */
    private void applyNameRules(String lowerName) {
        if (lowerName.contains("phi-3") || lowerName.contains("phi3")) {
            for (int id : specialTokens) {
                attrs[id] |= TokenAttr.RSTRIP;
            }
            setRstrip("</s>", true);
            for (String t : new String[] {"<unk>", "<s>", "<|endoftext|>"}) {
                setRstrip(t, false);
            }
        }
    }

    private void setRstrip(String text, boolean on) {
        int id = id(text);
        if (id != NONE) {
            attrs[id] = on ? attrs[id] | TokenAttr.RSTRIP : attrs[id] & ~TokenAttr.RSTRIP;
        }
    }

    /**
     * The token for each byte value in SentencePiece byte fallback: {@code <0xNN>} (upper-case
     * hex), else the one-byte text itself, else the unknown token, else NONE.
     */
    private int[] buildByteTokens() {
        int[] table = new int[256];
        for (int v = 0; v < 256; v++) {
            Integer id = idByKey.get(String.format("<0x%02X>", v));
            if (id == null) {
                id = idByKey.get(String.valueOf((char) v));
            }
            table[v] = id != null ? id : unk;
        }
        return table;
    }

    private static int inRange(int id, int n) {
        return id >= 0 && id < n ? id : NONE;
    }

    /** The lookup key of a byte range: each byte as one ISO-8859-1 char. */
    static String key(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.ISO_8859_1);
    }

    public Model model() {
        return model;
    }

    /** {@code tokenizer.ggml.pre} (the BPE pre-tokenizer name), or null. */
    public String pre() {
        return pre;
    }

    public int size() {
        return texts.length;
    }

    /** The token's text as the vocabulary spells it (SentencePiece writes a space as U+2581). */
    public String text(int id) {
        return texts[check(id)];
    }

    /** The token's text as UTF-8 bytes (a shared array: do not modify). */
    byte[] textBytes(int id) {
        return textBytes[check(id)];
    }

    public float score(int id) {
        return scores[check(id)];
    }

    /** The token's {@link TokenAttr} bits. */
    public int attr(int id) {
        return attrs[check(id)];
    }

    public boolean hasAttr(int id, int attr) {
        return (attrs[check(id)] & attr) != 0;
    }

    /** The id of a token text, or NONE. */
    public int id(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return id(b, 0, b.length);
    }

    /** The id of the token whose text is exactly these bytes, or NONE. */
    public int id(byte[] b, int off, int len) {
        if (len > maxTokenBytes) {
            return NONE;
        }
        Integer id = idByKey.get(key(b, off, len));
        return id == null ? NONE : id;
    }

    /** The byte-fallback token for a byte value, or NONE when the vocabulary has none. */
    public int byteToken(int value) {
        return byteTokens[value & 0xFF];
    }

    /** The byte a BYTE token stands for (its text is {@code <0xNN>}). */
    public int byteValue(int id) {
        String t = texts[check(id)];
        if (!hasAttr(id, TokenAttr.BYTE) || t.length() != 6 || !t.startsWith("<0x") || !t.endsWith(">")) {
            throw new IllegalArgumentException("token " + id + " '" + t + "' is not a byte token <0xNN>");
        }
        return Integer.parseInt(t.substring(3, 5), 16);
    }

    /** Special tokens in the order the input is split on them (see {@link #buildSpecialTokens}). */
    int[] specialTokens() {
        return specialTokens;
    }

    public int bos() {
        return bos;
    }

    public int eos() {
        return eos;
    }

    /** The end-of-turn token, or NONE. */
    public int eot() {
        return eot;
    }

    /** The end-of-message token (Llama 3.1's {@code <|eom_id|>}), or NONE. */
    public int eom() {
        return eom;
    }

    /** Every token generation stops at, in id order (llama.cpp's special_eog_ids). */
    public int[] endOfGenerationIds() {
        return endOfGeneration.stream().toArray();
    }

    public int unk() {
        return unk;
    }

    public int pad() {
        return pad;
    }

    /** {@code tokenizer.ggml.add_bos_token}: whether a BOS token starts every prompt. */
    public boolean addBos() {
        return addBos;
    }

    public boolean addEos() {
        return addEos;
    }

    /** {@code tokenizer.ggml.add_space_prefix}: SentencePiece puts a space before the text. */
    public boolean addSpacePrefix() {
        return addSpacePrefix;
    }

    /** Whether generation stops at this token (EOS, EOT and the tokens llama.cpp treats as such). */
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && endOfGeneration.get(id);
    }

    /** BPE merges as pairs in rank order (empty for SentencePiece). */
    public List<String[]> merges() {
        return merges;
    }

    private int check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (texts.length - 1) + ")");
        }
        return id;
    }

    /**
     * The vocabulary in a GGUF file's {@code tokenizer.ggml.*} keys (works on vocabulary-only
     * files). An unsupported or missing {@code tokenizer.ggml.model} is an
     * IllegalArgumentException naming the file and the model.
     */
    public static Vocabulary fromGguf(io.llamux.gguf.GgufFile file) {
        return GgufVocabulary.read(file);
    }

    public static Builder builder(Model model, String[] tokens) {
        return new Builder(model, tokens);
    }

    /**
     * Builds a vocabulary from arrays. Defaults follow llama.cpp for the model: SentencePiece
     * has BOS 1, EOS 2, UNK 0, adds BOS and a space prefix; BPE adds neither and has no
     * special ids until given.
     */
    public static final class Builder {
        private final Model model;
        private final String[] tokens;
        private float[] scores;
        private int[] tokenTypes;
        private int bos;
        private int eos;
        private int unk;
        private int eot = NONE;
        private int eom = NONE;
        private int pad = NONE;
        private boolean addBos;
        private boolean addEos;
        private boolean addSpacePrefix;
        private String modelName;
        private String pre;
        private List<String[]> merges = List.of();

        private Builder(Model model, String[] tokens) {
            this.model = model;
            this.tokens = tokens.clone();
            if (model == Model.SPM) {
                bos = 1;
                eos = 2;
                unk = 0;
                addBos = true;
                addSpacePrefix = true;
            } else {
                bos = NONE;
                eos = NONE;
                unk = NONE;
            }
        }

        public Builder scores(float[] scores) {
            this.scores = scores == null ? null : scores.clone();
            return this;
        }

        /** GGUF token types ({@link TokenAttr#TYPE_NORMAL} ...); without them every token is normal. */
        public Builder tokenTypes(int[] tokenTypes) {
            this.tokenTypes = tokenTypes == null ? null : tokenTypes.clone();
            return this;
        }

        public Builder bos(int id) {
            this.bos = id;
            return this;
        }

        public Builder eos(int id) {
            this.eos = id;
            return this;
        }

        public Builder unk(int id) {
            this.unk = id;
            return this;
        }

        public Builder eot(int id) {
            this.eot = id;
            return this;
        }

        /** The end-of-message token ({@code tokenizer.ggml.eom_token_id}). */
        public Builder eom(int id) {
            this.eom = id;
            return this;
        }

        public Builder pad(int id) {
            this.pad = id;
            return this;
        }

        public Builder addBos(boolean on) {
            this.addBos = on;
            return this;
        }

        public Builder addEos(boolean on) {
            this.addEos = on;
            return this;
        }

        public Builder addSpacePrefix(boolean on) {
            this.addSpacePrefix = on;
            return this;
        }

        /** {@code general.name}: llama.cpp gives some models' tokens extra attributes by name. */
        public Builder modelName(String name) {
            this.modelName = name;
            return this;
        }

        public Builder pre(String pre) {
            this.pre = pre;
            return this;
        }

        /** BPE merges, rank order, each as its two parts. */
        public Builder merges(List<String[]> merges) {
            this.merges = List.copyOf(merges);
            return this;
        }

        public Vocabulary build() {
            return new Vocabulary(this);
        }
    }

    @Override
    public String toString() {
        return "Vocabulary[" + model.ggufName + ", " + texts.length + " tokens, bos=" + bos + ", eos=" + eos
                + ", unk=" + unk + ", add_bos=" + addBos + ", add_space_prefix=" + addSpacePrefix
                + ", special=" + Arrays.toString(Arrays.copyOf(specialTokens, Math.min(8, specialTokens.length))) + "]";
    }
}
