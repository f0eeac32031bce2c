package io.llamux.cli;

import io.llamux.engine.Engine;
import io.llamux.engine.GenerationResult;
import io.llamux.sampling.SamplerSettings;
import io.llamux.engine.StopReason;
import io.llamux.gguf.GgufFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code llamux run}: generate text from a prompt, streamed as it is produced. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Generate text from a prompt with a GGUF model.",
        descriptionHeading = "%nDescription:%n%n",
        description = {
            "Loads MODEL, prints the prompt to standard output (unless --no-display-prompt), then streams "
                    + "the model's continuation there as soon as each piece forms whole UTF-8 characters. "
                    + "Generation stops at the model's end-of-text token (not printed), after -n tokens, when "
                    + "the context is full, or on Ctrl-C.",
            "",
            "Standard error gets the model summary, the seed (when sampling), the speeds of prompt processing "
                    + "and generation in tokens per second, and why generation stopped; so `llamux run ... > "
                    + "story.txt` keeps only the text. The daemon (/proc/llamux/generate) produces the same text "
                    + "for the same prompt and settings.",
            "",
            "Sampling follows llama.cpp: repetition penalty, then top-k, top-p and min-p on the untempered "
                    + "distribution, then temperature. --temp 0 is greedy decoding (ties to the lowest id). "
                    + "The same --seed gives the same text."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:text generated", "1:the model or prompt could not be used", "2:bad command line",
            "130:interrupted (Ctrl-C)"})
public final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The prompt.")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the prompt from FILE (UTF-8) instead.")
    Path promptFile;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "Generate at most N tokens; -1: until end of text or a full context. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8",
            description = "Temperature; 0 for greedy decoding. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40",
            description = "Sample only from the K most likely tokens; 0: all. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95",
            description = "Nucleus sampling: the fewest tokens whose probabilities add up to P; 1: off. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05",
            description = "Drop tokens less likely than P times the most likely one; 0: off. Default: ${DEFAULT-VALUE}.")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1.0",
            description = "Penalise tokens seen in the last --repeat-last-n tokens (logit / R if positive, "
                    + "* R if negative); 1: off. Default: ${DEFAULT-VALUE}.")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64",
            description = "How many recent tokens the repetition penalty looks at. Default: ${DEFAULT-VALUE}.")
    int repeatLastN;

    @Option(names = {"-s", "--seed"}, paramLabel = "S",
            description = "Random seed. Default: a random one, shown on standard error. Unused with --temp 0.")
    Long seed;

    @Option(names = "--no-display-prompt", description = "Do not print the prompt before the generated text (as llama-cli).")
    boolean noDisplayPrompt;

    @Option(names = "--ids", description = "Print the generated token ids (space-separated, one line) instead of text.")
    boolean ids;

    @Option(names = {"-cnv", "--conversation", "--chat"},
            description = "Chat with an instruct model through its chat template: with -p or -f, answer that one "
                    + "message; otherwise read a message per line from standard input and answer each, keeping the "
                    + "conversation (a line ending in \\ continues on the next; /reset starts over; end of input ends).")
    boolean chat;

    @Option(names = {"-sys", "--system-prompt"}, paramLabel = "TEXT",
            description = "With --chat: the system message. Templates without a system role get it folded into the "
                    + "first user message, as llama.cpp does.")
    String systemPrompt;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE", description = "With --chat: " + ChatInput.TEMPLATE_HELP)
    String chatTemplate;

    @Option(names = "--messages", paramLabel = "FILE.json",
            description = "With --chat: start from this conversation (a JSON list of {\"role\", \"content\"} "
                    + "objects); if it ends with a user message and there is no -p, answer it and stop.")
    Path messages;

    private final java.io.InputStream input;

    public RunCommand() {
        this(System.in);
    }

    /** With the stream --chat reads messages from (tests pass their own). */
    public RunCommand(java.io.InputStream input) {
        this.input = input;
    }

    @Override
    public Integer call() throws IOException {
        if (!chat && (systemPrompt != null || chatTemplate != null || messages != null)) {
            throw new ParameterException(spec.commandLine(), "-sys, --chat-template and --messages go with --chat");
        }
        if (chat && ids) {
            throw new ParameterException(spec.commandLine(), "--ids is not available with --chat");
        }
        String text = chat ? chatPromptText() : promptText();
        boolean greedy = temperature <= 0;
        // Greedy decoding draws no random numbers: no seed to pick or to show.
        long s = seed != null ? seed : greedy ? 0 : new java.security.SecureRandom().nextLong() & 0xFFFF_FFFFL;
        SamplerSettings settings = new SamplerSettings(temperature, topK, topP, minP, repeatPenalty, repeatLastN, s);
        try {
            io.llamux.sampling.Sampler.validate(settings);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        AtomicBoolean cancelled = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        // Ctrl-C: ask the generation loop to stop, and let it print its summary before the JVM exits.
        Thread hook = new Thread(() -> {
            cancelled.set(true);
            try {
                finished.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try (GgufFile file = ModelFile.open(model.modelPath(), err);
             Engine engine = Engine.load(file, model.engineOptions())) {
            err.println("llamux: " + engine.info().summary());
            String contextWarning = engine.info().contextWarning();
            if (contextWarning != null) {
                err.println("llamux: " + contextWarning);
            }
            if (!greedy) {
                err.println("llamux: seed " + s);
            }
            err.flush();
            if (chat) {
                return new ChatRun(engine, ChatInput.format(file, engine.tokenizer(), chatTemplate), settings, maxTokens,
                        out, err, cancelled).run(systemPrompt, messages == null ? null : ChatInput.messages(messages, input),
                        text, input);
            }
            int[] tokens = engine.tokenize(text);
            StringBuilder idLine = new StringBuilder();
            if (!ids && !noDisplayPrompt) {
                out.print(text);
                out.flush();
            }
            GenerationResult r = engine.generate(tokens, settings, maxTokens,
                    id -> {
                        if (ids) {
                            idLine.append(idLine.isEmpty() ? "" : " ").append(id);
                        }
                    },
                    piece -> {
                        if (!ids) {
                            out.print(piece);
                            out.flush();
                        }
                    },
                    cancelled::get);
            if (ids) {
                out.println(idLine);
            } else {
                out.println();
            }
            out.flush();
            err.printf("llamux: prompt %d tokens, %.2f tokens/s; generated %d tokens, %.2f tokens/s; stopped: %s%n",
                    r.promptTokens(), r.promptTokensPerSecond(), r.generatedTokens(), r.generatedTokensPerSecond(),
                    r.stopReason().describe());
            err.flush();
            return r.stopReason() == StopReason.CANCELLED ? 130 : 0;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and now returns.
            }
        }
    }

    /** --chat: the one message of -p or -f, or null for a conversation on standard input. */
    private String chatPromptText() throws IOException {
        return prompt == null && promptFile == null ? null : promptText();
    }

    private String promptText() throws IOException {
        if (prompt != null && promptFile != null) {
            throw new ParameterException(spec.commandLine(), "give the prompt with -p or -f, not both");
        }
        if (promptFile != null) {
            return Files.readString(promptFile, StandardCharsets.UTF_8);
        }
        if (prompt == null) {
            throw new ParameterException(spec.commandLine(), "no prompt: pass -p TEXT or -f FILE");
        }
        return prompt;
    }
}
