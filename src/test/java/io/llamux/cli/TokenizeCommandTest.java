package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code llamux tokenize} against the golden llama-tokenize output. */
class TokenizeCommandTest {
    private static final Path SHARED = Path.of("..", "shared");

    private record Result(int exit, String out, String err) {
    }

    /** {@code llamux tokenize ARGS} with this standard input. */
    private static Result run(byte[] stdin, String... args) {
        CommandLine main = Main.commandLine();
        // The same command line as Main's, with the subcommand reading our bytes as stdin.
        CommandLine tokenize = new CommandLine(new TokenizeCommand(new ByteArrayInputStream(stdin)))
                .setExecutionExceptionHandler(main.getExecutionExceptionHandler())
                .setParameterExceptionHandler(main.getParameterExceptionHandler());
        return execute(tokenize, args);
    }

    /** {@code llamux tokenize ARGS} through the real entry point. */
    private static Result run(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "tokenize";
        System.arraycopy(args, 0, all, 1, args.length);
        return execute(Main.commandLine(), all);
    }

    private static Result execute(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static Path shared(String relative) {
        Shared.require(SHARED);
        return SHARED.resolve(relative);
    }

    private static JsonNode goldenCase(String file, String text) throws IOException {
        JsonNode root = new ObjectMapper().readTree(shared("golden/" + file).toFile());
        for (JsonNode c : root.get("cases")) {
            if (c.get("text").asText().equals(text)) {
                return c;
            }
        }
        throw new AssertionError(file + " has no case " + text);
    }

    /** The ids as llama-tokenize --ids prints them: [1, 403, 407]. */
    private static String idsLine(JsonNode ids) {
        List<String> parts = new ArrayList<>();
        ids.forEach(id -> parts.add(id.asText()));
        return "[" + String.join(", ", parts) + "]" + System.lineSeparator();
    }

    @Test
    void printsIdsLikeLlamaTokenize() throws IOException {
        String model = shared("models/stories260K.gguf").toString();
        JsonNode c = goldenCase("tokenizer-stories260K.json", "Once upon a time");
        Result r = run("-m", model, "Once upon a time");
        assertEquals(0, r.exit, r.err);
        assertEquals(idsLine(c.get("ids_with_bos")), r.out);
        assertEquals("[1, 403, 407, 261, 378]" + System.lineSeparator(), r.out, "the form llama-tokenize --ids prints");

        Result noBos = run("-m", model, "--no-bos", "Once upon a time");
        assertEquals(idsLine(c.get("ids_no_bos")), noBos.out);
    }

    @Test
    void parseSpecialTurnsSpecialTextIntoControlTokens() throws IOException {
        String model = shared("models/stories260K.gguf").toString();
        JsonNode c = goldenCase("tokenizer-stories260K.json", "<s> and </s> as text");
        assertEquals(idsLine(c.get("ids_with_bos")), run("-m", model, "<s> and </s> as text").out);
        assertEquals(idsLine(c.get("ids_with_bos_parse_special")),
                run("-m", model, "--parse-special", "<s> and </s> as text").out);
    }

    @Test
    void stdinIsReadAsRawBytesOnAVocabularyOnlyFile() throws IOException {
        // vocab-llama-spm.gguf has no tensors: only the vocabulary is needed.
        String model = shared("models/vocab-llama-spm.gguf").toString();
        JsonNode root = new ObjectMapper().readTree(shared("golden/tokenizer-llama-spm.json").toFile());
        int checked = 0;
        for (JsonNode c : root.get("cases")) {
            byte[] raw = HexFormat.of().parseHex(c.get("text_utf8_hex").asText());
            Result r = run(raw, "-m", model, "--stdin");
            assertEquals(0, r.exit, r.err);
            assertEquals(idsLine(c.get("ids_with_bos")), r.out, "stdin " + c.get("text").asText());
            checked++;
        }
        assertTrue(checked > 40, "all golden strings");
    }

    @Test
    void piecesListsEachTokenWithItsText() {
        String model = shared("models/vocab-llama-spm.gguf").toString();
        Result r = run("-m", model, "--pieces", "Hi 🙂");
        assertEquals(0, r.exit, r.err);
        String nl = System.lineSeparator();
        assertTrue(r.out.startsWith("     1 -> '<s>'" + nl), r.out);
        assertTrue(r.out.contains(" -> '\\xF0'" + nl), "byte tokens as hex: " + r.out);
    }

    @Test
    void gpt2VocabularyAddsNoBos() throws IOException {
        JsonNode c = goldenCase("tokenizer-gpt2.json", "end <|endoftext|> start");
        String model = shared("models/vocab-gpt2.gguf").toString();
        assertEquals(idsLine(c.get("ids_with_bos")), run("-m", model, "end <|endoftext|> start").out);
        assertEquals(idsLine(c.get("ids_with_bos_parse_special")), run("-m", model, "--parse-special", "end <|endoftext|> start").out);
    }

    @Test
    void unsupportedPreTokenizerIsNamed(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        // A vocabulary-only GGUF with a pre-tokenizer llama.cpp has and Llamux does not (tekken).
        Path file = dir.resolve("tekken.gguf");
        Files.write(file, vocabOnlyGguf("gpt2", "tekken"));
        Result r = run("-m", file.toString(), "hello");
        assertEquals(1, r.exit);
        assertTrue(r.err.contains("'tekken'"), r.err);
        assertEquals("", r.out);
    }

    /** GGUF v3 with no tensors and the tokenizer keys: model, pre, the tokens "a", "b" and the merge "a b". */
    private static byte[] vocabOnlyGguf(String model, String pre) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(4);
        ggufString(b, "tokenizer.ggml.model");
        b.putInt(8);
        ggufString(b, model);
        ggufString(b, "tokenizer.ggml.pre");
        b.putInt(8);
        ggufString(b, pre);
        ggufString(b, "tokenizer.ggml.tokens");
        b.putInt(9).putInt(8).putLong(2);
        ggufString(b, "a");
        ggufString(b, "b");
        ggufString(b, "tokenizer.ggml.merges");
        b.putInt(9).putInt(8).putLong(1);
        ggufString(b, "a b");
        while (b.position() % 32 != 0) {
            b.put((byte) 0);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void ggufString(java.nio.ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    @Test
    void badInvocationsGiveClearErrors() {
        Result missing = run("-m", "/nonexistent/model.gguf", "hello");
        assertEquals(1, missing.exit);
        assertEquals("llamux: /nonexistent/model.gguf: no such file" + System.lineSeparator(), missing.err);

        String model = shared("models/stories260K.gguf").toString();
        Result noText = run("-m", model);
        assertEquals(2, noText.exit);
        assertTrue(noText.err.contains("no text"), noText.err);

        Result twoTexts = run("-m", model, "-p", "a", "b");
        assertEquals(2, twoTexts.exit);
        assertTrue(twoTexts.err.contains("only one way"), twoTexts.err);
    }
}
