package io.llamux.cli;

import ch.qos.logback.classic.Level;
import io.llamux.daemon.Channel;
import io.llamux.daemon.DaemonLogging;
import io.llamux.daemon.DeviceChannel;
import io.llamux.daemon.ModelMemory;
import io.llamux.daemon.Notifier;
import io.llamux.daemon.RequestLoop;
import io.llamux.daemon.RequestSettings;
import io.llamux.daemon.SystemdNotifier;
import io.llamux.daemon.UserConversations;
import io.llamux.chat.ChatFormat;
import io.llamux.chat.ChatFormats;
import io.llamux.engine.Engine;
import io.llamux.engine.EngineOptions;
import io.llamux.gguf.GgufFile;
import io.llamux.gguf.LoadProgress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code llamux daemon} (installed as {@code llamuxd}): serves /proc/llamux through /dev/llamux. */
@Command(name = "daemon", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Serve /proc/llamux: answer prompts that users write to the kernel.",
        descriptionHeading = "%nDescription:%n%n",
        description = {
            "Copies MODEL into huge-page memory, loads it, opens the llamux module's device and answers each "
                    + "prompt written to /proc/llamux/prompt; the writer reads the answer from /proc/llamux/generate. "
                    + "Settings a user writes to /proc/llamux/config (temperature=0.7 max_tokens=200 ...) override "
                    + "--defaults for that user's requests.",
            "",
            "Conversations: for a model with a chat template (or --chat-template), each prompt is the next user "
                    + "message of its user's conversation and the answer continues it. In /proc/llamux/config: "
                    + "chat=off sends prompts as raw text (the answer is the prompt and its continuation), "
                    + "system=\"TEXT\" sets the system message; the prompt /reset starts the conversation over. "
                    + "Each user's KV cache is kept while --kv-cache-memory allows, so a follow-up processes only its "
                    + "new tokens; an evicted conversation is rebuilt from its messages. One that outgrows the "
                    + "context drops its oldest messages (the system message stays) and the answer's first line, "
                    + "beginning 'llamux:', says so.",
            "",
            "Requests are answered one at a time, round robin between users. Logs go to standard output, one "
                    + "line per request with its id, uid, token counts and speeds, never the text. Under systemd "
                    + "(Type=notify) it reports READY=1 once the model is loaded and the forward pass compiled "
                    + "(--warm-up), and STATUS= lines on the way (the copy's progress too). SIGTERM stops it."},
        optionListHeading = "%nOptions:%n",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:stopped by a signal", "1:the device could not be opened, or it failed",
            "2:bad command line or --defaults", "3:the model cannot be used (missing, not GGUF, damaged, "
                    + "unsupported; or --huge-pages hugetlb without the pages): configuration errors, which "
                    + "llamuxd.service does not restart"})
public final class DaemonCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger("io.llamux.daemon.Daemon");

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--device", paramLabel = "PATH", defaultValue = "/dev/llamux",
            description = "The llamux module's device. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--device-wait", paramLabel = "SECONDS", defaultValue = "10",
            description = "How long to wait for the device to appear after the module loads. Default: ${DEFAULT-VALUE}.")
    int deviceWait;

    @Option(names = "--huge-pages", paramLabel = "MODE", defaultValue = "auto",
            description = "Model memory: auto (reserved huge pages, else transparent huge pages), hugetlb "
                    + "(reserved huge pages or fail), off. Default: ${DEFAULT-VALUE}.")
    String hugePages;

    @Option(names = "--defaults", paramLabel = "SETTINGS", defaultValue = "",
            description = "Default settings in /proc/llamux/config syntax, e.g. \"temperature=0.7 max_tokens=200\". "
                    + "Without: llama.cpp's sampling defaults, a random seed per request, max_tokens=256.")
    String defaults;

    @Option(names = "--max-held", paramLabel = "N", defaultValue = "16",
            description = "Waiting requests the daemon takes from the kernel to serve users round robin; the rest "
                    + "wait in the kernel's queue. None is lost when the daemon stops or dies: the kernel takes back "
                    + "every request the daemon had not started and gives it to the next daemon. "
                    + "Default: ${DEFAULT-VALUE}.")
    int maxHeld;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", defaultValue = "1G",
            description = "Memory for the KV caches kept for users' conversations (bytes, or with K, M or G), "
                    + "one cache of the whole context per user; at least one is always kept. A user whose cache "
                    + "went to another has the conversation rebuilt when they come back. Default: ${DEFAULT-VALUE}.")
    String kvCacheMemory;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "The chat format of conversations: a built-in name (chatml, llama3, phi3, ... see "
                    + "'llamux chat-template --list') or a file holding a Jinja template. Default: the model's "
                    + "tokenizer.chat_template; a model without one answers every prompt as raw text.")
    String chatTemplate;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warn, info or debug. Default: ${DEFAULT-VALUE}.")
    String logLevel;

    @Option(names = "--warm-up", paramLabel = "SECONDS", defaultValue = "1",
            description = "Before reporting ready, run the forward pass on throwaway tokens this long (at least "
                    + "once), so that the JIT has compiled it before the first request. Default: ${DEFAULT-VALUE}.")
    double warmUpSeconds;

    /** Exit status for a model that cannot be used: a configuration error (see the unit). */
    static final int EXIT_MODEL = 3;

    /** Where READY=1 and STATUS= go; null: systemd's socket from $NOTIFY_SOCKET (tests set their own). */
    Notifier notifier;

    /** Opens the device (tests pass a fake). */
    interface DeviceOpener {
        Channel open() throws IOException, InterruptedException;
    }

    DeviceOpener opener = this::openDevice;

    @Override
    public Integer call() throws Exception {
        Level level = Level.toLevel(logLevel.toUpperCase(Locale.ROOT), null);
        if (level == null) throw new ParameterException(spec.commandLine(), "unknown --log-level " + logLevel);
        ModelMemory.Policy policy = switch (hugePages) {
            case "auto" -> ModelMemory.Policy.AUTO;
            case "hugetlb" -> ModelMemory.Policy.HUGETLB;
            case "off" -> ModelMemory.Policy.OFF;
            default -> throw new ParameterException(spec.commandLine(), "--huge-pages takes auto, hugetlb or off, not " + hugePages);
        };
        if (maxHeld < 1) throw new ParameterException(spec.commandLine(), "--max-held must be at least 1");
        if (!(warmUpSeconds >= 0)) throw new ParameterException(spec.commandLine(), "--warm-up must not be negative");
        EngineOptions engineOptions = model.engineOptions(); // its usage errors before the model is copied
        long cacheMemory = parseSize(kvCacheMemory);
        RequestSettings settings;
        try {
            settings = RequestSettings.defaults().apply(defaults);
        } catch (RequestSettings.BadSettingException e) {
            throw new ParameterException(spec.commandLine(), "--defaults: " + e.getMessage());
        }
        Path modelPath = model.modelPath();
        DaemonLogging.configure(level);
        Notifier notifier = this.notifier != null ? this.notifier : SystemdNotifier.fromEnvironment();
        log.info("llamuxd starting: pid {}, Java {}, model {}, defaults {}", ProcessHandle.current().pid(),
                Runtime.version(), modelPath, settings.describe());
        notifier.status("loading " + modelPath);

        long t0 = System.nanoTime();
        Loaded loaded;
        try {
            LoadProgress copy = LoadProgress.of("copying the model into memory", notifier::status,
                    ModelFile.terminal(spec.commandLine().getErr()));
            loaded = Loaded.load(modelPath, policy, engineOptions, copy::advanced, notifier);
        } catch (IOException | IllegalArgumentException | UnsupportedOperationException e) {
            // Main.message: the JDK's file errors carry only the path.
            log.error("llamuxd: {} (exit {}: a configuration error, not restarted)", Main.message(e), EXIT_MODEL);
            notifier.status("failed: " + Main.message(e));
            return EXIT_MODEL;
        }
        try (loaded) {
            ModelMemory memory = loaded.memory();
            Engine engine = loaded.engine();
            long loadMs = (System.nanoTime() - t0) / 1_000_000;
            log.info("model loaded in {} ms: {}", loadMs, engine.info().summary());
            if (engine.info().contextWarning() != null) {
                log.warn("{}", engine.info().contextWarning());
            }
            // The first request would otherwise run the forward pass interpreted and pay for its
            // compilation: seconds on a busy machine.  READY=1 waits for this.
            notifier.status("warming up: compiling the forward pass");
            long w0 = System.nanoTime();
            int passes = engine.warmUp(Math.round(warmUpSeconds * 1000));
            log.info("warm-up: {} forward passes in {} ms", passes, (System.nanoTime() - w0) / 1_000_000);
            UserConversations answerer;
            try {
                answerer = conversations(loaded, cacheMemory);
            } catch (IOException | IllegalArgumentException e) {
                log.error("llamuxd: --chat-template: {} (exit 2: a configuration error, not restarted)", Main.message(e));
                notifier.status("failed: --chat-template: " + Main.message(e));
                return 2;
            }
            String modelStatus = "daemon: llamuxd pid " + ProcessHandle.current().pid() + "\n"
                    + "model: " + engine.info().summary() + "\n"
                    + "file: " + modelPath + "\n"
                    + "memory: " + memory.describe() + "\n"
                    + "defaults: " + settings.describe() + "\n";
            notifier.status("opening " + device);
            try (Channel channel = opener.open()) {
                log.info("serving {}", device);
                SecureRandom random = new SecureRandom();
                RequestLoop loop = new RequestLoop(channel, answerer, settings, () -> modelStatus, notifier,
                        () -> random.nextLong() & 0xFFFF_FFFFL, maxHeld);
                notifier.notify("READY=1\nSTATUS=serving " + device + ": " + engine.info().name() + ", "
                        + memory.backing().description);
                return serveUntilSignal(loop, notifier);
            }
        } catch (IOException | IllegalArgumentException | UnsupportedOperationException e) {
            log.error("llamuxd: {}", Main.message(e));
            notifier.status("failed: " + Main.message(e));
            return 1;
        }
    }

    /** --kv-cache-memory: bytes, or a number with K, M or G (binary units). */
    private long parseSize(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,15})([KMG]?)i?B?")
                .matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ParameterException(spec.commandLine(), "--kv-cache-memory takes bytes, or a number with K, M or G "
                    + "(e.g. 512M, 2G), not '" + text + "'");
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 0;
        };
        return Long.parseLong(m.group(1)) << shift;
    }

    /** Users' conversations in the chat format of the model or --chat-template; raw text only without one. */
    private UserConversations conversations(Loaded loaded, long cacheMemory) throws IOException {
        Engine engine = loaded.engine();
        ChatFormat format = null;
        if (chatTemplate != null || loaded.gguf().metadata().getString(ChatFormats.TEMPLATE_KEY, null) != null) {
            try {
                format = ChatFormats.forModel(loaded.gguf(), engine.tokenizer(), chatTemplate);
            } catch (IllegalArgumentException e) {
                if (chatTemplate != null) throw e;
                log.warn("the model's chat template cannot be used, so prompts are raw text: {}", e.getMessage());
            }
        }
        int caches = UserConversations.cachesFor(engine, cacheMemory);
        long each = engine.ownCacheSlot().byteSize();
        if (format == null) {
            log.info("no chat template: prompts are raw text; KV caches for {} users at once ({} MiB each)", caches,
                    String.format(Locale.ROOT, "%.1f", each / 1048576.0));
        } else {
            log.info("conversations in {}; KV caches for {} users at once ({} MiB each, --kv-cache-memory {})",
                    format.name(), caches, String.format(Locale.ROOT, "%.1f", each / 1048576.0), kvCacheMemory);
        }
        return new UserConversations(engine, format, caches);
    }

    /** The model in memory, its GGUF view and the engine; closed in reverse order. */
    private record Loaded(ModelMemory memory, GgufFile gguf, Engine engine) implements AutoCloseable {
        static Loaded load(Path path, ModelMemory.Policy policy, EngineOptions options, ModelMemory.Progress progress,
                           Notifier notifier) throws IOException {
            ModelMemory memory = ModelMemory.load(path, policy, progress);
            GgufFile gguf = null;
            try {
                gguf = GgufFile.parseOwnCopy(path.toString(), memory.bytes());
                notifier.status("loading the weights");
                return new Loaded(memory, gguf, Engine.load(gguf, options));
            } catch (IOException | RuntimeException e) {
                if (gguf != null) gguf.close();
                memory.close();
                throw e;
            }
        }

        @Override
        public void close() {
            engine.close();
            gguf.close();
            memory.close();
        }
    }

    /** Runs the loop on this thread; SIGTERM/SIGINT stop it through a shutdown hook that waits for the cleanup. */
    private int serveUntilSignal(RequestLoop loop, Notifier notifier) throws InterruptedException {
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            log.info("stopping (signal)");
            notifier.notify("STOPPING=1");
            loop.stop();
            try {
                finished.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "llamux-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            loop.run();
            log.info("stopped");
            return 0;
        } catch (IOException e) {
            log.error("llamuxd: {}", e.getMessage());
            return 1;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now
            }
        }
    }

    private Channel openDevice() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(deviceWait);
        while (!Files.exists(Path.of(device)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return DeviceChannel.open(device);
    }
}
