package io.llamux.model;

import io.llamux.gguf.GgufFile;
import io.llamux.gguf.GgufMetadata;
import io.llamux.gguf.TensorInfo;
import io.llamux.tensor.GgmlType;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * How rotary angles are scaled, as llama.cpp's {@code ggml_rope_ext} does without YaRN:
 * the angle of pair {@code i} at position {@code p} is
 * {@code freqScale * (p * base^(-2i/ropeDims) / factors[i])}.
 *
 * <ul>
 *   <li>{@code factors}: the per-pair frequency factors of {@code rope_freqs.weight} (Llama
 *       3.1+ "llama3" rope), or null (all 1);</li>
 *   <li>{@code freqScale}: {@code 1 / rope.scaling.factor} (or the older
 *       {@code rope.scale_linear}) for linear scaling, 1 without.</li>
 * </ul>
 *
 * YaRN and LongRoPE are refused, naming the key, rather than run with wrong angles.
 */
public record RopeScaling(float freqScale, float[] factors) {
    public static final RopeScaling NONE = new RopeScaling(1f, null);

    /** The tensor holding the frequency factors. */
    public static final String FACTORS_TENSOR = "rope_freqs.weight";

    /**
     * Reads the scaling of {@code file} for {@code c}.
     *
     * @throws IllegalArgumentException naming the key or tensor when the scaling is one Llamux
     *                                  does not implement, or the tensor's shape or type is wrong
     */
    public static RopeScaling of(GgufFile file, ModelConfig c) {
        GgufMetadata md = file.metadata();
        String type = md.archString("rope.scaling.type", "").toLowerCase(Locale.ROOT);
        if (!type.isEmpty() && !type.equals("none") && !type.equals("linear")) {
            throw new IllegalArgumentException("metadata key " + md.archKey("rope.scaling.type") + " = " + type
                    + ": Llamux implements linear rope scaling and frequency factors, not " + type);
        }
        float attn = md.archFloat("rope.scaling.attn_factor", 1f);
        if (attn != 1f) {
            throw new IllegalArgumentException("metadata key " + md.archKey("rope.scaling.attn_factor") + " = "
                    + attn + " is not implemented by Llamux");
        }
        float factor = 0f;
        String factorKey = null;
        for (String suffix : new String[]{"rope.scale_linear", "rope.scaling.factor"}) {
            if (md.archHas(suffix)) {
                factor = md.archFloat(suffix, 0f);
                factorKey = md.archKey(suffix);
                break;
            }
        }
        if (factorKey != null && !(factor >= 0f && Float.isFinite(factor))) {
            throw new IllegalArgumentException("metadata key " + factorKey + " must be a positive number: " + factor);
        }
        float freqScale = factor == 0f ? 1f : 1f / factor; // llama.cpp: 0 means none
        float[] factors = null;
        Optional<TensorInfo> t = file.tensor(FACTORS_TENSOR);
        if (t.isPresent()) {
            if (c.rope() == ModelConfig.RopeStyle.NONE) {
                throw new IllegalArgumentException("tensor " + FACTORS_TENSOR + " is not used by architecture "
                        + c.architecture());
            }
            TensorInfo ti = t.get();
            int half = c.ropeDims() / 2;
            if (ti.type() != GgmlType.F32 || ti.elementCount() != half) {
                throw new IllegalArgumentException("tensor " + FACTORS_TENSOR + ": expected " + half + " F32 values "
                        + "(one per rotary pair), found " + ti.type() + " " + Arrays.toString(ti.ne()));
            }
            factors = new float[half];
            java.lang.foreign.MemorySegment.copy(file.data(ti),
                    ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, factors, 0, half);
            for (float f : factors) {
                if (!(f > 0f && Float.isFinite(f))) {
                    throw new IllegalArgumentException("tensor " + FACTORS_TENSOR + " holds " + f
                            + "; frequency factors must be positive");
                }
            }
        }
        return freqScale == 1f && factors == null ? NONE : new RopeScaling(freqScale, factors);
    }

    /** The factor of pair {@code i} (1 without {@code rope_freqs.weight}). */
    public float factor(int i) {
        return factors == null ? 1f : factors[i];
    }
}
