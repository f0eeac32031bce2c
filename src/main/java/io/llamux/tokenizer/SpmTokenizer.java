package io.llamux.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The SentencePiece tokenizer of llama-family GGUF files ({@code tokenizer.ggml.model = llama}),
 * matching llama.cpp's LLAMA_VOCAB_TYPE_SPM path token for token.
 *
 * <p>Encoding: special-token text is cut out first ({@link SpecialTokenSplitter}); each
 * remaining text fragment gets a leading space when it follows the start or a special token
 * (add_space_prefix), has every space replaced by U+2581 '▁', and is merged by
 * {@link SpmMerger}.
 */
final class SpmTokenizer implements Tokenizer {
    private static final byte[] SPACE_MARK = "\u2581".getBytes(StandardCharsets.UTF_8);
    private static final int SPECIAL = TokenAttr.CONTROL | TokenAttr.UNKNOWN | TokenAttr.USER_DEFINED;

    private final Vocabulary vocab;
    /** Each token's bytes as llama_token_to_piece(special=true) gives them. */
    private final byte[][] pieces;

    SpmTokenizer(Vocabulary vocab) {
        if (vocab.model() != Vocabulary.Model.SPM) {
            throw new IllegalArgumentException("not a SentencePiece vocabulary: " + vocab.model().ggufName);
        }
        this.vocab = vocab;
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
            return vocab.text(id).replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
        }
        if ((attr & TokenAttr.BYTE) != 0) {
            return new byte[] {(byte) vocab.byteValue(id)};
        }
        return new byte[0]; // unused and undefined tokens print nothing, as in llama.cpp
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
        boolean afterSpecial = true;
        for (SpecialTokenSplitter.Fragment fragment : fragments) {
            if (fragment.isText()) {
                byte[] escaped = escapeSpaces(utf8, fragment.offset(), fragment.length(), vocab.addSpacePrefix() && afterSpecial);
                SpmMerger.tokenize(vocab, escaped, out);
                afterSpecial = false;
            } else {
                out.add(fragment.token());
                afterSpecial = true;
            }
        }
        if (addSpecial && vocab.addEos()) {
            out.add(vocab.eos());
        }
        return out.toArray();
    }

    /** The bytes with every space as '▁', optionally preceded by one more '▁'. */
    private static byte[] escapeSpaces(byte[] text, int offset, int length, boolean prefix) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 3 + length / 2);
        if (prefix) {
            out.writeBytes(SPACE_MARK);
        }
        for (int i = offset; i < offset + length; i++) {
            if (text[i] == ' ') {
                out.writeBytes(SPACE_MARK);
            } else {
                out.write(text[i]);
            }
        }
        return out.toByteArray();
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
