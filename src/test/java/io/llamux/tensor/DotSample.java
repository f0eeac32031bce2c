package io.llamux.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * Prints, one per line, {@code type n dot magnitude} for fixed random rows of every weight type,
 * plus the int lane count in use, and flags any dot whose bits change once it is JIT-compiled (after as many
 * repetitions as the argument says);
 * {@link SpeciesIndependenceTest} runs it in JVMs forced to different vector widths.
 */
public final class DotSample {

    private DotSample() {
    }

    public static void main(String[] args) {
        System.out.println("lanes " + Simd.L);
        for (GgmlType type : GgmlType.values()) {
            if (!WeightFormats.isSupported(type)) {
                continue;
            }
            WeightFormat f = WeightFormats.of(type);
            Random rnd = new Random(type.id);
            for (int n : type.blockSize == 1 ? new int[] {7, 100, 1000} : new int[] {type.blockSize, 5 * type.blockSize}) {
                MemorySegment w = DotReference.randomRow(type, n, rnd);
                MemorySegment act = Activations.quantize(f.activationType(), DotReference.gaussian(n, rnd), 0, n);
                float cold = f.dot(w, 0, act, 0, n);
                DotReference.Result ref = DotReference.of(f, w, 0, act, 0, n);
                System.out.println(type + " " + n + " " + cold + " " + ref.magnitude());
                // The same call once the JIT has compiled it must give the same bits.
                float warm = cold;
                for (int i = 0; i < (args.length > 0 ? Integer.parseInt(args[0]) : 0); i++) {
                    warm = f.dot(w, 0, act, 0, n);
                }
                if (Float.floatToRawIntBits(warm) != Float.floatToRawIntBits(cold)) {
                    System.out.println("NONDETERMINISTIC " + type + " " + n + " cold " + cold + " warm " + warm);
                }
            }
        }
    }
}
