package io.llamux.daemon;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Proves io.llamux.daemon.Wire equals kmod/llamux_uapi.h: the header is parsed for its
 * constants and struct field lists (so nothing new in it goes unnoticed), and gcc compiles a
 * program against it that prints the real values, sizes and offsets the kernel uses.
 */
class WireHeaderTest {
    private static final Path HEADER = Path.of("kmod/llamux_uapi.h");
    private static final Pattern DEFINE = Pattern.compile("^#define\\s+LLAMUX_(\\w+)\\s+\\S", Pattern.MULTILINE);
    private static final Pattern ENUM_MEMBER = Pattern.compile("^\\s*LLAMUX_(\\w+)\\s*=", Pattern.MULTILINE);
    private static final Pattern STRUCT = Pattern.compile("struct\\s+(llamux_\\w+)\\s*\\{(.*?)\\};", Pattern.DOTALL);
    private static final Pattern FIELD = Pattern.compile("__le(16|32|64)\\s+(\\w+)\\s*;");

    record CField(String name, int bits) {
    }

    @Test
    void javaMirrorEqualsTheHeader() throws Exception {
        String header = Files.readString(HEADER);
        List<String> constants = new ArrayList<>();
        for (Pattern p : List.of(DEFINE, ENUM_MEMBER)) {
            Matcher m = p.matcher(header);
            while (m.find()) constants.add(m.group(1));
        }
        Map<String, List<CField>> structs = new LinkedHashMap<>();
        Matcher s = STRUCT.matcher(header);
        while (s.find()) {
            List<CField> fields = new ArrayList<>();
            Matcher f = FIELD.matcher(s.group(2));
            while (f.find()) fields.add(new CField(f.group(2), Integer.parseInt(f.group(1))));
            structs.put(s.group(1), fields);
        }
        assertTrue(constants.contains("MAGIC") && constants.contains("MSG_DONE"), "header parse found " + constants);
        assertEquals(4, structs.size(), "structs in the header: " + structs.keySet());

        Map<String, StructLayout> layouts = javaLayouts();
        assertEquals(structs.keySet(), layouts.keySet(), "structs mirrored in Wire");

        // Every header field, in order and with its width, is in the Java layout (and no other).
        for (var e : structs.entrySet()) {
            StructLayout layout = layouts.get(e.getKey());
            List<String> javaNames = layout.memberLayouts().stream().map(l -> l.name().orElseThrow()).toList();
            assertEquals(e.getValue().stream().map(CField::name).toList(), javaNames, e.getKey() + " fields");
            for (CField f : e.getValue()) {
                MemoryLayout member = layout.select(MemoryLayout.PathElement.groupElement(f.name()));
                assertEquals(f.bits() / 8, member.byteSize(), e.getKey() + "." + f.name() + " width");
            }
        }

        // The numbers themselves come from the C compiler, so C's layout rules are applied for real.
        Map<String, Long> c = compileAndRun(constants, structs);
        assumeTrue(c != null, "gcc not found: skipping the compiled comparison (the parsed field lists were checked)");
        for (String name : constants) {
            Field f = Wire.class.getField(name);
            assertEquals(c.get("LLAMUX_" + name), Integer.toUnsignedLong(f.getInt(null)), "LLAMUX_" + name);
        }
        for (var e : structs.entrySet()) {
            StructLayout layout = layouts.get(e.getKey());
            assertEquals(c.get("sizeof " + e.getKey()), layout.byteSize(), "sizeof(struct " + e.getKey() + ")");
            for (CField f : e.getValue()) {
                String key = e.getKey() + "." + f.name();
                assertEquals(c.get("offsetof " + key), Wire.offset(layout, f.name()), "offsetof " + key);
                assertEquals(c.get("sizeof " + key), (long) f.bits() / 8, "sizeof " + key);
            }
        }
    }

    private static Map<String, StructLayout> javaLayouts() throws IllegalAccessException {
        Map<String, StructLayout> out = new HashMap<>();
        for (Field f : Wire.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == StructLayout.class) {
                StructLayout l = (StructLayout) f.get(null);
                out.put(l.name().orElseThrow(), l);
            }
        }
        return out;
    }

    /** Prints "key value" lines from a C program including the header; null when gcc is missing. */
    private static Map<String, Long> compileAndRun(List<String> constants, Map<String, List<CField>> structs)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("llamux-uapi");
        StringBuilder src = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include \"")
                .append(HEADER.toAbsolutePath()).append("\"\nint main(void) {\n");
        for (String name : constants) {
            src.append("  printf(\"LLAMUX_%s %llu\\n\", \"").append(name).append("\", (unsigned long long)(LLAMUX_")
                    .append(name).append("));\n");
        }
        for (var e : structs.entrySet()) {
            String st = "struct " + e.getKey();
            src.append("  printf(\"sizeof %s %zu\\n\", \"").append(e.getKey()).append("\", sizeof(").append(st).append("));\n");
            for (CField f : e.getValue()) {
                String key = e.getKey() + "." + f.name();
                src.append("  printf(\"offsetof %s %zu\\n\", \"").append(key).append("\", offsetof(").append(st)
                        .append(", ").append(f.name()).append("));\n");
                src.append("  printf(\"sizeof %s %zu\\n\", \"").append(key).append("\", sizeof(((").append(st)
                        .append(" *)0)->").append(f.name()).append("));\n");
            }
        }
        src.append("  return 0;\n}\n");
        Path c = dir.resolve("uapi.c");
        Path exe = dir.resolve("uapi");
        Files.writeString(c, src);
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-Wall", "-Werror", "-o", exe.toString(), c.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException noGcc) {
            return null;
        }
        String gccOut = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(gcc.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, gcc.exitValue(), "gcc failed on the header:\n" + gccOut);
        Process run = new ProcessBuilder(exe.toString()).start();
        String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(10, TimeUnit.SECONDS));
        Map<String, Long> values = new HashMap<>();
        for (String line : out.split("\n")) {
            int sp = line.lastIndexOf(' ');
            values.put(line.substring(0, sp), Long.parseUnsignedLong(line.substring(sp + 1)));
        }
        assertFalse(values.isEmpty());
        assertNotNull(values.get("LLAMUX_MAGIC"));
        return values;
    }
}
