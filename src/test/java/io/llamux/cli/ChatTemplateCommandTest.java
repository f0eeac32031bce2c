package io.llamux.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.llamux.testing.Shared;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code llamux chat-template} on llama.cpp's chat-template cases (../shared/chat-templates):
 * every Jinja case renders exactly as llama.cpp's Jinja engine does, and every built-in name
 * exactly as llama.cpp's built-in formatter does.
 */
class ChatTemplateCommandTest {
    private static final Path CASES = Path.of("../shared/chat-templates/llama-cpp-cases.json");
    private static final Path CHAT_MODEL = Path.of("../shared/models/synthetic-chat-Q8_0.gguf");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JsonNode root;

    @TempDir
    static Path dir;

    @BeforeAll
    static void load() throws IOException {
        Shared.require(CASES);
        root = JSON.readTree(CASES.toFile());
    }

    record Result(int exit, String out, String err) {
    }

    static Result runWithInput(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine main = Main.commandLine();
        CommandLine cl = new CommandLine(new ChatTemplateCommand(
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8))))
                .setExecutionExceptionHandler(main.getExecutionExceptionHandler())
                .setParameterExceptionHandler(main.getParameterExceptionHandler());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    static Result run(String... args) {
        return runWithInput("", args);
    }

    private static Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    private static Path conversation(JsonNode c) throws IOException {
        ArrayNode all = JSON.createArrayNode();
        all.addAll((ArrayNode) root.get("conversation"));
        all.addAll((ArrayNode) c.path("extra_conversation"));
        return write("messages-" + Math.abs(c.get("name").asText().hashCode()) + ".json", JSON.writeValueAsString(all));
    }

    /** The must-show: each Jinja case with supported_with_jinja and no extra conversation, through the CLI. */
    @TestFactory
    Stream<DynamicTest> jinjaCasesRenderAsLlamaCppExpects() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            if (!c.path("supported_with_jinja").asBoolean() || c.path("extra_conversation").size() > 0) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                Path template = write("template-" + Math.abs(c.get("name").asText().hashCode()) + ".jinja",
                        c.get("template").asText());
                Result r = run("--chat-template-file", template.toString(), "--bos-token", c.get("bos_token").asText(),
                        "--eos-token", c.get("eos_token").asText(), "--messages", conversation(c).toString());
                assertEquals(0, r.exit(), r.err());
                assertEquals(c.get("expected_jinja").asText(), r.out());
            }));
        }
        assertEquals(32, tests.size());
        return tests.stream();
    }

    /** Which built-in llama.cpp's detection picks for each case's template (llm_chat_detect_template). */
    private static final List<String[]> BUILTIN_OF_CASE = List.of(
            new String[] {"teknium/OpenHermes-2.5-Mistral-7B", "chatml"},
            new String[] {"mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)", "llama2"},
            new String[] {"TheBloke/FusionNet_34Bx2_MoE-AWQ", "llama2-sys-bos"},
            new String[] {"bofenghuang/vigogne-2-70b-chat", "llama2-sys-strip"},
            new String[] {"mlabonne/AlphaMonarch-7B", "monarch"},
            new String[] {"google/gemma-7b-it", "gemma"},
            new String[] {"OrionStarAI/Orion-14B-Chat", "orion"},
            new String[] {"openchat/openchat-3.5-0106", "openchat"},
            new String[] {"deepseek-ai/deepseek-coder-33b-instruct", "deepseek"},
            new String[] {"eachadea/vicuna-13b-1.1", "vicuna"},
            new String[] {"Orca-Vicuna", "vicuna-orca"},
            new String[] {"CohereForAI/c4ai-command-r-plus", "command-r"},
            new String[] {"Llama-3", "llama3"},
            new String[] {"Phi-3-mini", "phi3"},
            new String[] {"Phi-3-small", "phi3"},
            new String[] {"Phi-3-medium", "phi3"},
            new String[] {"Phi-3-vision", "phi3"},
            new String[] {"ChatGLM3", "chatglm3"},
            new String[] {"ChatGLM4", "chatglm4"},
            new String[] {"GLMEdge", "glmedge"},
            new String[] {"MiniCPM-3B-OpenHermes-2.5-v2-GGUF", "minicpm"},
            new String[] {"DeepSeek-V2", "deepseek2"},
            new String[] {"ibm-granite/granite-3.0-8b-instruct", "granite"},
            new String[] {"mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)", "mistral-v1"},
            new String[] {"Mistral-Large-Instruct-2407 (mistralai 'v3' template; modified to have system prompt at start)",
                "mistral-v3"},
            new String[] {"Mistral-Nemo-Instruct-2407 (mistralai 'v3-tekken' template; modified to have system prompt at start)",
                "mistral-v3-tekken"},
            new String[] {"mistralai/Mistral-Large-Instruct-2411 (mistralai 'v7' template)", "mistral-v7"},
            new String[] {"Infinigence/Megrez-3B-Instruct", "megrez"},
            new String[] {"phi-4", "phi4"},
            new String[] {"inclusionAI/Ling-lite", "bailing"},
            new String[] {"ibm-granite/granite-3.x (tool call)", "granite"},
            new String[] {"ibm-granite/granite-4.0 (tool call)", "granite-4.0"},
            // llama.cpp has a granite-4.1 format of its own; on this conversation it writes what 4.0 writes.
            new String[] {"ibm-granite/granite-4.1 (tool call)", "granite-4.0"});

    @TestFactory
    Stream<DynamicTest> builtinNamesRenderAsLlamaCppsFormatter() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String[] pair : BUILTIN_OF_CASE) {
            JsonNode c = caseNamed(pair[0]);
            tests.add(DynamicTest.dynamicTest(pair[1] + " (" + pair[0] + ")", () -> {
                Result r = run("--chat-template", pair[1], "--messages", conversation(c).toString());
                assertEquals(0, r.exit(), r.err());
                assertEquals(c.get("expected_builtin").asText(), r.out());
            }));
        }
        return tests.stream();
    }

    private static JsonNode caseNamed(String name) {
        for (JsonNode c : root.get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new AssertionError("no case " + name);
    }

    @Test
    void theIssuesNamesAreBuiltIn() {
        Result r = run("--list");
        assertEquals(0, r.exit(), r.err());
        List<String> names = r.out().lines().toList();
        for (String n : List.of("chatml", "llama2", "llama3", "phi3", "zephyr", "mistral-v1", "mistral-v3", "mistral-v7",
                "gemma")) {
            assertTrue(names.contains(n), n + " in " + names);
        }
    }

    @Test
    void raiseExceptionIsAClearErrorWithExitStatus1() throws IOException {
        // Mistral v0.2 raises for two user messages in a row.
        JsonNode c = caseNamed("mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)");
        Path template = write("mistral.jinja", c.get("template").asText());
        Path msgs = write("two-users.json", "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]");
        Result r = run("--chat-template-file", template.toString(), "--messages", msgs.toString());
        assertEquals(1, r.exit());
        assertEquals("", r.out());
        assertEquals("llamux: template error (" + template + "): Conversation roles must alternate user/assistant/user/assistant/..."
                + System.lineSeparator(), r.err());
    }

    @Test
    void theModelsTemplateFoldsTheSystemMessageAndAnOverrideReplacesIt() throws IOException {
        Shared.require(CHAT_MODEL);
        Path msgs = write("sys-user.json", "[{\"role\":\"system\",\"content\":\"Be kind.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi <|end|>\"}]");
        Result r = run("-m", CHAT_MODEL.toString(), "--messages", msgs.toString());
        assertEquals(0, r.exit(), r.err());
        // Phi-3 mini's template has no system role; bos_token is the model's <s>.
        assertEquals("<s><|user|>\nBe kind.\nHi <|end|><|end|>\n<|assistant|>\n", r.out());
        Result chatml = run("-m", CHAT_MODEL.toString(), "--chat-template", "chatml", "--messages", msgs.toString(),
                "--no-add-generation-prompt");
        assertEquals(0, chatml.exit(), chatml.err());
        assertEquals("<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi <|end|><|im_end|>\n", chatml.out());
        Result stdin = runWithInput("[{\"role\":\"user\",\"content\":\"x\"}]", "--chat-template", "llama3", "--messages", "-");
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                stdin.out(), stdin.err());
    }

    @Test
    void badInputIsOneClearLine() throws IOException {
        Path msgs = write("ok.json", "[{\"role\":\"user\",\"content\":\"x\"}]");
        Result unknown = run("--chat-template", "no-such-format", "--messages", msgs.toString());
        assertEquals(1, unknown.exit());
        assertTrue(unknown.err().startsWith("llamux: chat template 'no-such-format': neither a built-in name (chatml, "),
                unknown.err());
        Path bad = write("bad.json", "{\"role\":\"user\"}");
        Result notList = run("--chat-template", "chatml", "--messages", bad.toString());
        assertEquals(1, notList.exit());
        assertEquals("llamux: " + bad + ": expected a JSON list of {\"role\": ..., \"content\": ...} objects"
                + System.lineSeparator(), notList.err());
        Path noContent = write("nocontent.json", "[{\"role\":\"user\"}]");
        Result missing = run("--chat-template", "chatml", "--messages", noContent.toString());
        assertEquals("llamux: " + noContent + ": message 1 has no \"content\" string" + System.lineSeparator(), missing.err());
        Result noMessages = run("--chat-template", "chatml");
        assertEquals(2, noMessages.exit());
        assertTrue(noMessages.err().startsWith("llamux: no conversation: pass --messages FILE.json"), noMessages.err());
        Path syntax = write("syntax.jinja", "{% for m in messages %}{{ m.content }}");
        Result unclosed = run("--chat-template-file", syntax.toString(), "--messages", msgs.toString());
        assertEquals(1, unclosed.exit());
        assertTrue(unclosed.err().startsWith("llamux: " + syntax + ": "), unclosed.err());
        Path stories = Path.of("../shared/models/stories260K.gguf");
        if (Files.exists(stories)) {
            Result none = run("-m", stories.toString(), "--messages", msgs.toString());
            assertEquals(1, none.exit());
            assertTrue(none.err().contains("has no chat template (tokenizer.chat_template): give one with --chat-template"),
                    none.err());
        }
    }
}
