import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;

/**
 * Drives llama.cpp for scripts/bench-llamacpp, through the java-llama.cpp binding (which ships a
 * prebuilt llama.cpp for the CPU): one warm-up round, then REPETITIONS rounds of a pp call (a
 * prompt of at least N_PROMPT tokens, one token generated) and a tg call (a one-token prompt,
 * N_GEN tokens generated, end of text ignored). llama.cpp times each call itself and prints
 * "prompt eval time = ... ms / N tokens" and "eval time = ..." on stderr; the script reads those.
 *
 * Usage: java -cp llama.jar LlamaCppBench.java MODEL THREADS N_PROMPT N_GEN REPETITIONS
 */
public class LlamaCppBench {

    public static void main(String[] args) {
        String model = args[0];
        int threads = Integer.parseInt(args[1]);
        int nPrompt = Integer.parseInt(args[2]);
        int nGen = Integer.parseInt(args[3]);
        int reps = Integer.parseInt(args[4]);
        ModelParameters mp = new ModelParameters().setModel(model).setThreads(threads).setThreadsBatch(threads)
                .setCtxSize(Math.max(512, 2 * nPrompt + nGen + 64)).setBatchSize(512).setGpuLayers(0);
        try (LlamaModel llama = new LlamaModel(mp)) {
            StringBuilder text = new StringBuilder();
            while (llama.encode(text.toString()).length < nPrompt) text.append("Once upon a time there was a girl. ");
            String prompt = text.toString();
            System.out.println("prompt tokens: " + llama.encode(prompt).length);
            for (int r = 0; r <= reps; r++) {
                llama.complete(new InferenceParameters(prompt).setNPredict(1).setTemperature(0f).setCachePrompt(false));
                llama.complete(new InferenceParameters("Once").setNPredict(nGen).setTemperature(0f)
                        .setIgnoreEos(true).setCachePrompt(false));
            }
        }
        System.exit(0); // the binding's native threads would keep the JVM alive
    }
}
