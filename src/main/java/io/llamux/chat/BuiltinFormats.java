package io.llamux.chat;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The chat formats llama.cpp has built in ({@code --chat-template NAME}, llama-chat.cpp), by
 * llama.cpp's names and with its output: {@code chatml}, {@code llama2}, {@code llama3},
 * {@code phi3}, {@code zephyr}, {@code mistral-v1}, {@code gemma}, ... Each is written out in
 * code rather than as Jinja, as llama.cpp does, so a format's quirks (trimmed contents, a system
 * message merged into the first user turn, no generation prompt for some) are exactly llama.cpp's.
 */
public final class BuiltinFormats {
    /** Writes a conversation in one format. */
    private interface Writer {
        void write(List<ChatMessage> messages, boolean addGenerationPrompt, RenderedPrompt.Builder out);
    }

    private record Builtin(String name, Writer writer) implements ChatFormat {
        @Override
        public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            RenderedPrompt.Builder out = new RenderedPrompt.Builder();
            writer.write(messages, addGenerationPrompt, out);
            return out.build();
        }
    }

    private static final Map<String, Writer> FORMATS = new LinkedHashMap<>();

    static {
        FORMATS.put("chatml", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                out.template("<|im_start|>" + m.role() + "\n").message(m.content()).template("<|im_end|>\n");
            }
            if (gen) {
                out.template("<|im_start|>assistant\n");
            }
        });
        for (String v : List.of("llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip")) {
            FORMATS.put(v, llama2(!v.equals("llama2"), v.equals("llama2-sys-bos"), v.equals("llama2-sys-strip")));
        }
        FORMATS.put("mistral-v1", mistral(" ", " ", false));
        FORMATS.put("mistral-v3", mistral("", " ", true));
        FORMATS.put("mistral-v3-tekken", mistral("", "", false));
        FORMATS.put("mistral-v7", mistralV7(" "));
        FORMATS.put("mistral-v7-tekken", mistralV7(""));
        FORMATS.put("phi3", roleTags("<|end|>\n", "<|assistant|>\n"));
        FORMATS.put("phi4", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                out.template("<|im_start|>" + m.role() + "<|im_sep|>").message(m.content()).template("<|im_end|>");
            }
            if (gen) {
                out.template("<|im_start|>assistant<|im_sep|>");
            }
        });
        FORMATS.put("falcon3", roleTags("\n", "<|assistant|>\n"));
        FORMATS.put("zephyr", roleTags("<|endoftext|>\n", "<|assistant|>\n"));
        FORMATS.put("monarch", (ms, gen, out) -> {
            for (int i = 0; i < ms.size(); i++) {
                ChatMessage m = ms.get(i);
                out.template((i == 0 ? "" : "<s>") + m.role() + "\n").message(m.content()).template("</s>\n");
            }
            if (gen) {
                out.template("<s>assistant\n");
            }
        });
        FORMATS.put("gemma", (ms, gen, out) -> {
            // No system role: the system text opens the next user turn, separated by a blank line.
            StringBuilder system = new StringBuilder();
            for (ChatMessage m : ms) {
                if (m.role().equals("system")) {
                    system.append(trim(m.content()));
                    continue;
                }
                String role = m.role().equals("assistant") ? "model" : m.role();
                out.template("<start_of_turn>" + role + "\n");
                if (!system.isEmpty() && !role.equals("model")) {
                    out.message(system.toString()).template("\n\n");
                    system.setLength(0);
                }
                out.message(trim(m.content())).template("<end_of_turn>\n");
            }
            if (gen) {
                out.template("<start_of_turn>model\n");
            }
        });
        FORMATS.put("orion", (ms, gen, out) -> {
            StringBuilder system = new StringBuilder();
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> system.append(m.content());
                    case "user" -> {
                        out.template("Human: ");
                        if (!system.isEmpty()) {
                            out.message(system.toString()).template("\n\n");
                            system.setLength(0);
                        }
                        out.message(m.content()).template("\n\nAssistant: </s>");
                    }
                    default -> out.message(m.content()).template("</s>");
                }
            }
        });
        FORMATS.put("openchat", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                if (!m.role().equals("system")) {
                    out.template("GPT4 Correct " + capitalized(m.role()) + ": ");
                }
                out.message(m.content()).template("<|end_of_turn|>");
            }
            if (gen) {
                out.template("GPT4 Correct Assistant:");
            }
        });
        FORMATS.put("vicuna", vicuna(false));
        FORMATS.put("vicuna-orca", vicuna(true));
        FORMATS.put("deepseek", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> out.message(m.content());
                    case "user" -> out.template("### Instruction:\n").message(m.content()).template("\n");
                    case "assistant" -> out.template("### Response:\n").message(m.content()).template("\n<|EOT|>\n");
                    default -> { }
                }
            }
            if (gen) {
                out.template("### Response:\n");
            }
        });
        FORMATS.put("deepseek2", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> out.message(m.content()).template("\n\n");
                    case "user" -> out.template("User: ").message(m.content()).template("\n\n");
                    case "assistant" -> out.template("Assistant: ").message(m.content()).template("<｜end▁of▁sentence｜>");
                    default -> { }
                }
            }
            if (gen) {
                out.template("Assistant:");
            }
        });
        FORMATS.put("deepseek3", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> out.message(m.content()).template("\n\n");
                    case "user" -> out.template("<｜User｜>").message(m.content());
                    case "assistant" -> out.template("<｜Assistant｜>").message(m.content()).template("<｜end▁of▁sentence｜>");
                    default -> { }
                }
            }
            if (gen) {
                out.template("<｜Assistant｜>");
            }
        });
        FORMATS.put("command-r", (ms, gen, out) -> {
            Map<String, String> tokens = Map.of("system", "<|SYSTEM_TOKEN|>", "user", "<|USER_TOKEN|>",
                    "assistant", "<|CHATBOT_TOKEN|>");
            for (ChatMessage m : ms) {
                String token = tokens.get(m.role());
                if (token != null) {
                    out.template("<|START_OF_TURN_TOKEN|>" + token).message(trim(m.content()))
                            .template("<|END_OF_TURN_TOKEN|>");
                }
            }
            if (gen) {
                out.template("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
            }
        });
        FORMATS.put("llama3", headers("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"));
        FORMATS.put("llama4", headers("<|header_start|>", "<|header_end|>", "<|eot|>"));
        FORMATS.put("chatglm3", glm("[gMASK]sop", "\n ", "<|assistant|>"));
        FORMATS.put("chatglm4", glm("[gMASK]<sop>", "\n", "<|assistant|>\n"));
        FORMATS.put("glmedge", glm("", "\n", "<|assistant|>"));
        FORMATS.put("minicpm", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                if (m.role().equals("user")) {
                    out.template("<用户>").message(trim(m.content())).template("<AI>");
                } else {
                    out.message(trim(m.content()));
                }
            }
        });
        FORMATS.put("exaone3", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> out.template("[|system|]").message(trim(m.content())).template("[|endofturn|]\n");
                    case "user" -> out.template("[|user|]").message(trim(m.content())).template("\n");
                    case "assistant" -> out.template("[|assistant|]").message(trim(m.content())).template("[|endofturn|]\n");
                    default -> { }
                }
            }
            if (gen) {
                out.template("[|assistant|]");
            }
        });
        FORMATS.put("granite", granite(false));
        FORMATS.put("granite-4.0", granite(true));
        FORMATS.put("megrez", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                out.template("<|role_start|>" + m.role() + "<|role_end|>").message(m.content()).template("<|turn_end|>");
            }
            if (gen) {
                out.template("<|role_start|>assistant<|role_end|>");
            }
        });
        FORMATS.put("bailing", (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                String role = m.role().equals("user") ? "HUMAN" : m.role().toUpperCase(Locale.ROOT);
                out.template("<role>" + role + "</role>").message(m.content());
            }
            if (gen) {
                out.template("<role>ASSISTANT</role>");
            }
        });
    }

    private BuiltinFormats() {
    }

    /** The built-in names, in a stable order. */
    public static Set<String> names() {
        return Collections.unmodifiableSet(FORMATS.keySet());
    }

    /** The built-in format of that name, or null. */
    public static ChatFormat named(String name) {
        Writer w = FORMATS.get(name);
        return w == null ? null : new Builtin(name, w);
    }

    // <|role|>\n content END ... : phi3, falcon3, zephyr.
    private static Writer roleTags(String end, String generation) {
        return (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                out.template("<|" + m.role() + "|>\n").message(m.content()).template(end);
            }
            if (gen) {
                out.template(generation);
            }
        };
    }

    // Llama 3 and 4: a header per turn, trimmed contents.
    private static Writer headers(String open, String close, String end) {
        return (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                out.template(open + m.role() + close + "\n\n").message(trim(m.content())).template(end);
            }
            if (gen) {
                out.template(open + "assistant" + close + "\n\n");
            }
        };
    }

    private static Writer glm(String start, String afterRole, String generation) {
        return (ms, gen, out) -> {
            out.template(start);
            for (ChatMessage m : ms) {
                out.template("<|" + m.role() + "|>" + afterRole).message(m.content());
            }
            if (gen) {
                out.template(generation);
            }
        };
    }

    private static Writer llama2(boolean systemRole, boolean bosInHistory, boolean strip) {
        return (ms, gen, out) -> {
            boolean inTurn = true; // the first [INST] comes without BOS: the tokenizer adds it
            out.template("[INST] ");
            for (ChatMessage m : ms) {
                String content = strip ? trim(m.content()) : m.content();
                if (!inTurn) {
                    inTurn = true;
                    out.template(bosInHistory ? "<s>[INST] " : "[INST] ");
                }
                switch (m.role()) {
                    case "system" -> {
                        if (systemRole) {
                            out.template("<<SYS>>\n").message(content).template("\n<</SYS>>\n\n");
                        } else {
                            out.message(content).template("\n");
                        }
                    }
                    case "user" -> out.message(content).template(" [/INST]");
                    default -> {
                        out.message(content).template("</s>");
                        inTurn = false;
                    }
                }
            }
        };
    }

    // IBM Granite; 4.0 writes a tool call as an assistant turn.
    private static Writer granite(boolean toolCallAsAssistant) {
        return (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                boolean toolCall = m.role().equals("assistant_tool_call");
                out.template("<|start_of_role|>" + (toolCall && toolCallAsAssistant ? "assistant" : m.role())
                        + "<|end_of_role|>" + (toolCall ? "<|tool_call|>" : ""));
                out.message(m.content()).template("<|end_of_text|>\n");
            }
            if (gen) {
                out.template("<|start_of_role|>assistant<|end_of_role|>");
            }
        };
    }

    private static Writer mistral(String lead, String trail, boolean trimAssistant) {
        return (ms, gen, out) -> {
            boolean inTurn = false;
            for (ChatMessage m : ms) {
                if (!inTurn) {
                    out.template(lead + "[INST]" + trail);
                    inTurn = true;
                }
                switch (m.role()) {
                    case "system" -> out.message(m.content()).template("\n\n");
                    case "user" -> out.message(m.content()).template(lead + "[/INST]");
                    default -> {
                        out.template(trail).message(trimAssistant ? trim(m.content()) : m.content()).template("</s>");
                        inTurn = false;
                    }
                }
            }
        };
    }

    private static Writer mistralV7(String space) {
        return (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> out.template("[SYSTEM_PROMPT]" + space).message(m.content()).template("[/SYSTEM_PROMPT]");
                    case "user" -> out.template("[INST]" + space).message(m.content()).template("[/INST]");
                    default -> out.template(space).message(m.content()).template("</s>");
                }
            }
        };
    }

    private static Writer vicuna(boolean orca) {
        return (ms, gen, out) -> {
            for (ChatMessage m : ms) {
                switch (m.role()) {
                    case "system" -> {
                        if (orca) {
                            out.template("SYSTEM: ").message(m.content()).template("\n");
                        } else {
                            out.message(m.content()).template("\n\n");
                        }
                    }
                    case "user" -> out.template("USER: ").message(m.content()).template("\n");
                    case "assistant" -> out.template("ASSISTANT: ").message(m.content()).template("</s>\n");
                    default -> { }
                }
            }
            if (gen) {
                out.template("ASSISTANT:");
            }
        };
    }

    private static String capitalized(String role) {
        return role.isEmpty() ? role : Character.toUpperCase(role.charAt(0)) + role.substring(1);
    }

    /** C's isspace trim, as llama.cpp trims contents: space, \t, \n, \v, \f, \r at both ends. */
    static String trim(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isSpace(s.charAt(a))) {
            a++;
        }
        while (b > a && isSpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
