package io.llamux.bench;

import io.llamux.gguf.GgufFile;
import io.llamux.tokenizer.TextDecoder;
import io.llamux.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokenizing a prompt of the kernel module's default size limit (64 KiB of English prose,
 * ../shared/golden/story.txt repeated) with a real vocabulary, and streaming the ids back to
 * text. Not part of {@code make test}; after {@code mvn test-compile} run
 * {@code java -cp target/test-classes:target/classes:<dependency jars> org.openjdk.jmh.Main TokenizeBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TokenizeBench {

    @Param({"models/vocab-llama-spm.gguf", "models/vocab-gpt2.gguf"})
    public String vocabulary;

    private Tokenizer tokenizer;
    private String text;
    private int[] ids;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Path shared = Path.of("..", "shared");
        try (GgufFile f = GgufFile.open(shared.resolve(vocabulary))) {
            tokenizer = Tokenizer.fromGguf(f);
        }
        String story = Files.readString(shared.resolve("golden/story.txt"));
        StringBuilder sb = new StringBuilder();
        while (sb.length() + story.length() <= 65_536) {
            sb.append(story);
        }
        text = sb.toString();
        ids = tokenizer.encode(text, true, false);
    }

    @Benchmark
    public int[] encode64KiB() {
        return tokenizer.encode(text, true, false);
    }

    @Benchmark
    public int streamDecode64KiB() {
        TextDecoder d = new TextDecoder(tokenizer);
        int chars = 0;
        for (int id : ids) {
            chars += d.push(id).length();
        }
        return chars + d.flush().length();
    }
}
