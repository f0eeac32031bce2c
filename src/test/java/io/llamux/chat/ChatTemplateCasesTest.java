package io.llamux.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** llama.cpp's chat-template cases: our renderer gives exactly llama.cpp's jinja output. */
class ChatTemplateCasesTest {
    @TestFactory
    Stream<DynamicTest> llamaCppCases() throws Exception {
        JsonNode root = new ObjectMapper().readTree(Path.of("../shared/chat-templates/llama-cpp-cases.json").toFile());
        List<ChatMessage> conv = new ArrayList<>();
        for (JsonNode m : root.get("conversation")) {
            conv.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            if (!c.path("supported_with_jinja").asBoolean() || c.path("extra_conversation").size() > 0) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
                ChatTemplate t = ChatTemplate.parse(c.get("template").asText());
                String got = t.render(conv, c.get("bos_token").asText(), c.get("eos_token").asText(), true).text();
                assertEquals(c.get("expected_jinja").asText(), got);
            }));
        }
        assertEquals(32, tests.size());
        return tests.stream();
    }
}
