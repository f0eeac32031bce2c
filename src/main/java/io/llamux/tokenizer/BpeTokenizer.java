package io.llamux.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * GPT-2 style byte-level BPE ({@code tokenizer.ggml.model = gpt2}), as llama.cpp's
 * LLAMA_VOCAB_TYPE_BPE path does it: split out special tokens, split the text into words with
 * the {@link BpePreTokenizer} the file names, spell each word's bytes in the
 * {@link ByteLevel} alphabet, then apply the merges, lowest rank first.
 */
final class BpeTokenizer implements Tokenizer {
    private static final int SPECIAL = TokenAttr.CONTROL | TokenAttr.UNKNOWN | TokenAttr.USER_DEFINED;
    private static final char PAIR_SEPARATOR = '\uFFFF'; // a noncharacter: in no token text

    private final Vocabulary vocab;
    private final BpePreTokenizer preTokenizer;
    private final Map<String, Integer> rankOfPair;
    private final byte[][] pieces;

    BpeTokenizer(Vocabulary vocab) {
        if (vocab.model() != Vocabulary.Model.BPE) {
            throw new IllegalArgumentException("not a BPE vocabulary: " + vocab.model().ggufName);
        }
        this.vocab = vocab;
        this.preTokenizer = BpePreTokenizer.forName(vocab.pre());
        if (preTokenizer == null) {
            throw new IllegalArgumentException("unsupported BPE pre-tokenizer tokenizer.ggml.pre = '" + vocab.pre()
                    + "' (Llamux supports gpt-2, qwen2, starcoder, llama3, falcon, deepseek-llm, deepseek-coder and their aliases)");
        }
        List<String[]> merges = vocab.merges();
        this.rankOfPair = HashMap.newHashMap(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            rankOfPair.putIfAbsent(merges.get(rank)[0] + PAIR_SEPARATOR + merges.get(rank)[1], rank);
        }
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = renderPiece(id);
        }
    }

    private byte[] renderPiece(int id) {
        int attr = vocab.attr(id);
        if ((attr & SPECIAL) != 0) {
            return vocab.textBytes(id);
        }
        if ((attr & TokenAttr.NORMAL) != 0) {
            return ByteLevel.decode(vocab.text(id));
        }
        if ((attr & TokenAttr.BYTE) != 0) {
            return new byte[] {(byte) vocab.byteValue(id)};
        }
        return new byte[0];
    }

    @Override
    public int[] encode(byte[] utf8, boolean addSpecial, boolean parseSpecial) {
        return encode(utf8, addSpecial, SpecialTokenSplitter.split(vocab, utf8, parseSpecial));
    }

    @Override
    public int[] encode(List<TextPiece> pieces, boolean addSpecial) {
        TextPiece.Joined joined = TextPiece.join(pieces);
        return encode(joined.utf8(), addSpecial, SpecialTokenSplitter.split(vocab, joined.utf8(), joined.parseable()));
    }

    private int[] encode(byte[] utf8, boolean addSpecial, List<SpecialTokenSplitter.Fragment> fragments) {
        IntList out = new IntList();
        if (addSpecial && vocab.addBos()) {
            out.add(vocab.bos());
        }
        for (SpecialTokenSplitter.Fragment fragment : fragments) {
            if (fragment.isText()) {
                encodeText(utf8, fragment.offset(), fragment.length(), out);
            } else {
                out.add(fragment.token());
            }
        }
        if (addSpecial && vocab.addEos()) {
            out.add(vocab.eos());
        }
        return out.toArray();
    }

    private void encodeText(byte[] utf8, int offset, int length, IntList out) {
        int[] cps = Unicode.codepoints(utf8, offset, length);
        IntList words = preTokenizer.split(cps);
        int start = 0;
        for (int w = 0; w < words.size(); w++) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (int i = start; i < start + words.get(w); i++) {
                Unicode.appendUtf8(cps[i], bytes);
            }
            start += words.get(w);
            String word = ByteLevel.encode(bytes.toByteArray());
            int whole = preTokenizer.ignoreMerges() ? vocab.id(word) : Vocabulary.NONE;
            if (whole != Vocabulary.NONE) {
                out.add(whole);
            } else {
                mergeWord(word, out);
            }
        }
    }

    private record Bigram(int rank, int left, int right, int size) {
    }

    /** BPE within one byte-level word: merge the lowest-ranked adjacent pair until none is left. */
    private void mergeWord(String word, IntList out) {
        int n = word.length(); // one symbol per char: the byte-level alphabet is all in the BMP
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) ->
                a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addBigram(word, start, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.size) {
                continue; // stale: a side changed since the pair was queued
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            addBigram(word, start, length, prev[left], left, queue);
            addBigram(word, start, length, left, next[left], queue);
        }
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
            String symbol = word.substring(start[i], start[i] + length[i]);
            int token = vocab.id(symbol);
            if (token != Vocabulary.NONE) {
                out.add(token);
                continue;
            }
            // As llama.cpp: fall back to single-byte tokens, dropping bytes that have none.
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                int id = vocab.id(new byte[] {b}, 0, 1);
                if (id != Vocabulary.NONE) {
                    out.add(id);
                }
            }
        }
    }

    private void addBigram(String word, int[] start, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) {
            return;
        }
        String a = word.substring(start[left], start[left] + length[left]);
        String b = word.substring(start[right], start[right] + length[right]);
        Integer rank = rankOfPair.get(a + PAIR_SEPARATOR + b);
        if (rank != null) {
            queue.add(new Bigram(rank, left, right, length[left] + length[right]));
        }
    }

    @Override
    public byte[] piece(int token, boolean special) {
        if (!special && vocab.hasAttr(token, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) {
            return new byte[0];
        }
        return pieces[token].clone();
    }

    @Override
    public Vocabulary vocabulary() {
        return vocab;
    }
}
