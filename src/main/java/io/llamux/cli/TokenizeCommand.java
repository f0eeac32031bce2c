package io.llamux.cli;

import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatFormats;
import io.llamux.chat.ChatMessage;
import io.llamux.gguf.GgufFile;
import io.llamux.tokenizer.Tokenizer;
import io.llamux.tokenizer.TextDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code llamux tokenize}: prints the token ids of a text the way {@code llama-tokenize --ids}
 * does ({@code [1, 403, 407]}). Only the vocabulary is read, so vocabulary-only GGUF files work.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text, as llama-tokenize --ids does.")
public final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "GGUF file with the vocabulary (a model or a vocabulary-only file). "
                    + "Default: the LLAMUX_MODEL environment variable.")
    Path model;

    @Option(names = "--no-bos", description = "Do not add the BOS token, even if the model asks for it.")
    boolean noBos;

    @Option(names = "--parse-special",
            description = "Turn special-token text such as <s> into that token (otherwise it is plain text).")
    boolean parseSpecial;

    @Option(names = "--stdin", description = "Read the text as raw bytes from standard input.")
    boolean stdin;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the text as raw bytes from a file.")
    Path file;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The text (instead of the TEXT argument).")
    String prompt;

    @Option(names = "--pieces",
            description = "Print one line per token, id -> 'piece', as llama-tokenize does without --ids.")
    boolean pieces;

    @Option(names = "--chat",
            description = "Tokenize the conversation of --messages as the model's chat template renders it "
                    + "(with the generation prompt): special tokens from the template only, never from a message.")
    boolean chat;

    @Option(names = "--messages", paramLabel = "FILE.json",
            description = "With --chat: the conversation, a JSON list of {\"role\", \"content\"} objects; - for standard input.")
    Path messages;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE", description = "With --chat: " + ChatInput.TEMPLATE_HELP)
    String chatTemplate;

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The text to tokenize.")
    String text;

    private final InputStream input;

    public TokenizeCommand() {
        this(System.in);
    }

    /** With the stream --stdin reads (tests pass their own). */
    public TokenizeCommand(InputStream input) {
        this.input = input;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Path path = ModelOptions.modelPath(model, spec);
        byte[] bytes = chat ? null : readText();
        Tokenizer tokenizer;
        int[] ids = null;
        try (GgufFile gguf = GgufFile.open(path)) {
            tokenizer = Tokenizer.fromGguf(gguf);
            if (chat) {
                ids = chatIds(gguf, tokenizer);
            }
        }
        if (!chat) {
            // llama-tokenize: BOS (and EOS) as the model asks, unless --no-bos.
            ids = tokenizer.encode(bytes, !noBos, parseSpecial);
        }
        if (pieces) {
            for (int id : ids) {
                out.printf("%6d -> '%s'%n", id, printable(tokenizer.piece(id, true)));
            }
        } else {
            out.println(Arrays.toString(ids));
        }
        out.flush();
        return 0;
    }

    /** --chat: the rendered conversation's ids, as generation gets them. */
    private int[] chatIds(GgufFile gguf, Tokenizer tokenizer) throws IOException {
        if (text != null || prompt != null || stdin || file != null || noBos || parseSpecial) {
            throw new ParameterException(spec.commandLine(),
                    "--chat tokenizes --messages: leave out TEXT, -p, -f, --stdin, --no-bos and --parse-special");
        }
        if (messages == null) {
            throw new ParameterException(spec.commandLine(), "--chat needs --messages FILE.json");
        }
        List<ChatMessage> conversation = ChatInput.messages(messages, input);
        ChatFormat format = ChatInput.format(gguf, tokenizer, chatTemplate);
        return ChatFormats.tokenize(tokenizer, ChatInput.render(format, conversation, true));
    }

    private byte[] readText() throws IOException {
        if (messages != null || chatTemplate != null) {
            throw new ParameterException(spec.commandLine(), "--messages and --chat-template go with --chat");
        }
        int sources = (text != null ? 1 : 0) + (prompt != null ? 1 : 0) + (stdin ? 1 : 0) + (file != null ? 1 : 0);
        if (sources != 1) {
            throw new ParameterException(spec.commandLine(),
                    sources == 0 ? "no text: give TEXT, -p TEXT, -f FILE or --stdin"
                            : "give the text only one way: TEXT, -p TEXT, -f FILE or --stdin");
        }
        if (stdin) {
            return input.readAllBytes();
        }
        if (file != null) {
            return Files.readAllBytes(file);
        }
        return (text != null ? text : prompt).getBytes(StandardCharsets.UTF_8);
    }

    /** A piece as text; bytes that are not whole UTF-8 characters (byte tokens) as \xNN. */
    private static String printable(byte[] piece) {
        String s = TextDecoder.decode(piece);
        if (!s.contains("\uFFFD") || Arrays.equals(s.getBytes(StandardCharsets.UTF_8), piece)) {
            return s;
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : piece) {
            hex.append(String.format("\\x%02X", b & 0xFF));
        }
        return hex.toString();
    }
}
