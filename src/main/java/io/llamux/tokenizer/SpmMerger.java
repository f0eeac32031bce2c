package io.llamux.tokenizer;

import java.util.PriorityQueue;

/**
 * SentencePiece's greedy merge over one text fragment (llama.cpp's
 * {@code llm_tokenizer_spm_session}).
 *
 * <p>The text starts as one symbol per UTF-8 character. Every adjacent pair whose joined text
 * is a token is a candidate; the candidate with the highest score is merged first (on a tie,
 * the one further left), and the merged symbol forms new candidates with its neighbours.
 * Symbols that never became tokens (characters missing from the vocabulary) are written as
 * byte-fallback tokens, one per byte.
 *
 * <p>Symbols live in parallel arrays linked into a list; a merged-away symbol keeps length 0.
 * A queued candidate is stale when either side has changed length since it was queued, which
 * the length check on pop detects exactly (lengths only grow, or drop to 0).
 */
final class SpmMerger {

    private record Bigram(float score, int left, int right, int size) {
    }

    // Highest score first; ties go to the leftmost pair.
    private static final java.util.Comparator<Bigram> ORDER = (a, b) -> {
        int c = Float.compare(b.score, a.score);
        return c != 0 ? c : Integer.compare(a.left, b.left);
    };

    private final Vocabulary vocab;
    private final byte[] text;
    private final int[] start;
    private final int[] length;
    private final int[] prev;
    private final int[] next;
    private final PriorityQueue<Bigram> queue = new PriorityQueue<>(ORDER);

    private SpmMerger(Vocabulary vocab, byte[] text) {
        this.vocab = vocab;
        this.text = text;
        int n = text.length; // at most one symbol per byte
        start = new int[n];
        length = new int[n];
        prev = new int[n];
        next = new int[n];
    }

    /** Appends the tokens of {@code text} (already space-escaped) to {@code out}. */
    static void tokenize(Vocabulary vocab, byte[] text, IntList out) {
        if (text.length > 0) {
            new SpmMerger(vocab, text).run(out);
        }
    }

    private void run(IntList out) {
        int count = 0;
        for (int offset = 0; offset < text.length; count++) {
            int len = Math.min(utf8Length(text[offset]), text.length - offset);
            start[count] = offset;
            length[count] = len;
            prev[count] = count - 1;
            offset += len;
            next[count] = offset == text.length ? -1 : count + 1;
        }
        for (int i = 1; i < count; i++) {
            tryAddBigram(i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.size) {
                continue; // stale: one side was merged into something else meanwhile
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            tryAddBigram(prev[left], left);
            tryAddBigram(left, next[left]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            emit(i, out);
        }
    }

    private void tryAddBigram(int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int size = length[left] + length[right];
        int token = vocab.id(text, start[left], size);
        if (token != Vocabulary.NONE) {
            queue.add(new Bigram(vocab.score(token), left, right, size));
        }
    }

    /**
     * A final symbol is a token, or else a single character the vocabulary lacks: merged
     * symbols always are tokens, since only pairs forming a token are merged.
     */
    private void emit(int symbol, IntList out) {
        int token = vocab.id(text, start[symbol], length[symbol]);
        if (token != Vocabulary.NONE) {
            out.add(token);
            return;
        }
        for (int k = 0; k < length[symbol]; k++) {
            int b = text[start[symbol] + k] & 0xFF;
            int byteToken = vocab.byteToken(b);
            if (byteToken == Vocabulary.NONE) {
                throw new IllegalArgumentException(String.format(
                        "cannot tokenize byte 0x%02X: the vocabulary has no <0x%02X> byte token and no unknown token", b, b));
            }
            out.add(byteToken);
        }
    }

    /**
     * The length of a UTF-8 sequence from its first byte, llama.cpp's {@code unicode_len_utf8}:
     * looked up by the top four bits, so a stray continuation byte counts as 1 and F8..FF as 4.
     */
    static int utf8Length(byte first) {
        return UTF8_LENGTH_BY_HIGH_NIBBLE[(first & 0xFF) >>> 4];
    }

    private static final int[] UTF8_LENGTH_BY_HIGH_NIBBLE = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
}
