package io.llamux.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages' layers, lowest first: gguf and tensor (file format, weight types) < model,
 * tokenizer, sampling, chat (the forward pass, text to ids, picking the next id, chat
 * templates) < engine (a loaded
 * model that generates, benchmarks, scores) < cli and daemon (parse, print, serve). A class may
 * import its own layer and the ones below, never one above; this test reads every main source
 * file's imports and fails on an upward one.
 */
class LayeringTest {
    private static final Map<String, Integer> LAYER = Map.of(
            "gguf", 0, "tensor", 0,
            "model", 1, "tokenizer", 1, "sampling", 1, "chat", 1,
            "engine", 2,
            "cli", 3, "daemon", 3);
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.llamux\\.(\\w+)\\.", Pattern.MULTILINE);

    @Test
    void noPackageImportsFromALayerAboveIt() throws IOException {
        Path root = Path.of("src/main/java/io/llamux");
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f).getName(0).toString();
                Integer own = LAYER.get(pkg);
                if (own == null) {
                    violations.add(f + ": package " + pkg + " has no layer in LayeringTest");
                    continue;
                }
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    Integer other = LAYER.get(m.group(1));
                    if (other == null || other > own) {
                        violations.add(f + " (" + pkg + ") imports io.llamux." + m.group(1));
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }
}
