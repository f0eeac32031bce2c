package io.llamux.cli;

import io.llamux.chat.BuiltinFormats;
import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatFormats;
import io.llamux.chat.ChatMessage;
import io.llamux.gguf.GgufFile;
import io.llamux.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code llamux chat-template}: a conversation as a model's chat template renders it. */
@Command(name = "chat-template", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Print a conversation as a chat template renders it.",
        synopsisHeading = "%nUsage:%n%n",
        customSynopsis = {
            "  llamux chat-template [-m MODEL] [--chat-template NAME|FILE] --messages FILE.json [--no-add-generation-prompt]",
            "  llamux chat-template --chat-template-file FILE [--bos-token S] [--eos-token S] --messages FILE.json ...",
            "  llamux chat-template --chat-template NAME --messages FILE.json ...",
            "  llamux chat-template --list"},
        descriptionHeading = "%nDescription:%n%n",
        description = {
            "Renders the conversation in FILE.json (a JSON list of {\"role\": ..., \"content\": ...} objects; - reads "
                    + "standard input) with MODEL's tokenizer.chat_template, or with the template given, and prints "
                    + "the text exactly, without adding a newline: the prompt `llamux run --chat` would give the model.",
            "",
            "Templates are Jinja, rendered as Hugging Face transformers renders them (trim_blocks, lstrip_blocks, "
                    + "raise_exception, tojson, strftime_now; variables messages, bos_token, eos_token, "
                    + "add_generation_prompt). A template without a system role gets the system message folded into "
                    + "the first user message, as llama.cpp does. With a model, bos_token and eos_token are its BOS "
                    + "and EOS token texts. Built-in names give llama.cpp's built-in formats.",
            "",
            "The text of messages is never turned into special tokens: 'llamux tokenize --chat' shows the ids."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:rendered", "1:the template failed (e.g. its raise_exception) or a file could not be used",
            "2:bad command line"})
public final class ChatTemplateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "GGUF file whose template (and BOS/EOS texts) to use. Default: the LLAMUX_MODEL environment "
                    + "variable, unless a template is given.")
    Path model;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE", description = ChatInput.TEMPLATE_HELP)
    String chatTemplate;

    @Option(names = "--chat-template-file", paramLabel = "FILE",
            description = "A Jinja template file, used without a model (see --bos-token, --eos-token).")
    Path templateFile;

    @Option(names = "--bos-token", paramLabel = "S", description = "bos_token for a template without a model. Default: empty.")
    String bosToken;

    @Option(names = "--eos-token", paramLabel = "S", description = "eos_token for a template without a model. Default: empty.")
    String eosToken;

    @Option(names = "--messages", paramLabel = "FILE.json",
            description = "The conversation: a JSON list of {\"role\", \"content\"} objects; - for standard input.")
    Path messages;

    @Option(names = "--no-add-generation-prompt",
            description = "Do not end with the opening of an assistant turn (render a finished conversation).")
    boolean noGenerationPrompt;

    @Option(names = "--list", description = "List the built-in template names and exit.")
    boolean list;

    private final InputStream input;

    public ChatTemplateCommand() {
        this(System.in);
    }

    /** With the stream {@code --messages -} reads (tests pass their own). */
    public ChatTemplateCommand(InputStream input) {
        this.input = input;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            BuiltinFormats.names().forEach(out::println);
            out.flush();
            return 0;
        }
        if (messages == null) {
            throw new ParameterException(spec.commandLine(), "no conversation: pass --messages FILE.json");
        }
        if (templateFile != null && (model != null || chatTemplate != null)) {
            throw new ParameterException(spec.commandLine(),
                    "--chat-template-file renders without a model: leave out -m and --chat-template");
        }
        if ((bosToken != null || eosToken != null) && templateFile == null && chatTemplate == null) {
            throw new ParameterException(spec.commandLine(),
                    "--bos-token and --eos-token go with --chat-template-file (a model has its own)");
        }
        List<ChatMessage> conversation = ChatInput.messages(messages, input);
        ChatFormat format = format();
        out.print(ChatInput.render(format, conversation, !noGenerationPrompt).text());
        out.flush();
        return 0;
    }

    private ChatFormat format() throws IOException {
        if (templateFile != null) {
            return ChatFormats.fromFile(templateFile, bosToken, eosToken);
        }
        if (model == null && chatTemplate != null) {
            return ChatFormats.named(chatTemplate, bosToken, eosToken); // no model: bos/eos as given
        }
        Path path = ModelOptions.modelPath(model, spec);
        try (GgufFile gguf = GgufFile.open(path)) {
            return ChatInput.format(gguf, Tokenizer.fromGguf(gguf), chatTemplate);
        }
    }
}
