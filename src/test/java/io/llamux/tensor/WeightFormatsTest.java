package io.llamux.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The traits table, the documented block layouts and the errors for types Llamux lacks. */
class WeightFormatsTest {

    /** GgmlType.supported (what info and the loader call usable) says exactly what WeightFormats computes with. */
    @Test
    void supportedTypesAreExactlyTheWeightFormats() {
        for (GgmlType t : GgmlType.values()) {
            assertEquals(WeightFormats.isSupported(t), t.supported, t + ": GgmlType.supported vs WeightFormats");
        }
        assertFalse(GgmlType.Q8_1.supported, "Q8_1 is an activation format only");
        assertFalse(GgmlType.Q8_K.supported, "Q8_K is an activation format only");
    }


    /** Each class's layout constants (offset of its last field + that field's size) against ggml's type sizes. */
    @Test
    void blockLayoutsAddUpToGgmlTypeSizes() {
        Map<GgmlType, Integer> layoutBytes = Map.ofEntries(
                Map.entry(GgmlType.F32, F32Format.BYTES),
                Map.entry(GgmlType.F16, F16Format.BYTES),
                Map.entry(GgmlType.BF16, BF16Format.BYTES),
                Map.entry(GgmlType.Q4_0, Q4_0Format.QS + Q4_0Format.QK / 2),
                Map.entry(GgmlType.Q4_1, Q4_1Format.QS + Q4_1Format.QK / 2),
                Map.entry(GgmlType.Q5_0, Q5_0Format.QS + Q5_0Format.QK / 2),
                Map.entry(GgmlType.Q5_1, Q5_1Format.QS + Q5_1Format.QK / 2),
                Map.entry(GgmlType.Q8_0, Q8_0Format.QS + Q8_0Format.QK),
                Map.entry(GgmlType.Q8_1, Q8_1Activation.QS + Q8_1Activation.QK),
                Map.entry(GgmlType.Q2_K, Q2_KFormat.DMIN + 2),
                Map.entry(GgmlType.Q3_K, Q3_KFormat.D + 2),
                Map.entry(GgmlType.Q4_K, Q4_KFormat.QS + Q4_KFormat.QK / 2),
                Map.entry(GgmlType.Q5_K, Q5_KFormat.QS + Q5_KFormat.QK / 2),
                Map.entry(GgmlType.Q6_K, Q6_KFormat.D + 2),
                Map.entry(GgmlType.Q8_K, Q8_KActivation.BSUMS + 2 * Q8_KActivation.QK / 16));
        Map<GgmlType, Integer> declared = Map.ofEntries(
                Map.entry(GgmlType.Q4_0, Q4_0Format.BYTES), Map.entry(GgmlType.Q4_1, Q4_1Format.BYTES),
                Map.entry(GgmlType.Q5_0, Q5_0Format.BYTES), Map.entry(GgmlType.Q5_1, Q5_1Format.BYTES),
                Map.entry(GgmlType.Q8_0, Q8_0Format.BYTES), Map.entry(GgmlType.Q8_1, Q8_1Activation.BYTES),
                Map.entry(GgmlType.Q2_K, Q2_KFormat.BYTES), Map.entry(GgmlType.Q3_K, Q3_KFormat.BYTES),
                Map.entry(GgmlType.Q4_K, Q4_KFormat.BYTES), Map.entry(GgmlType.Q5_K, Q5_KFormat.BYTES),
                Map.entry(GgmlType.Q6_K, Q6_KFormat.BYTES), Map.entry(GgmlType.Q8_K, Q8_KActivation.BYTES));
        layoutBytes.forEach((type, bytes) -> {
            assertEquals(type.typeSize, bytes, type + " layout size");
            if (declared.containsKey(type)) {
                assertEquals(type.typeSize, declared.get(type), type + " BYTES constant");
            }
        });
        for (GgmlType type : GgmlType.values()) {
            if (WeightFormats.isSupported(type)) {
                assertTrue(layoutBytes.containsKey(type), type + " has a layout check");
            }
        }
    }

    @Test
    void everySupportedTypeHasItsFormatAndLlamaCppPartner() {
        Map<GgmlType, GgmlType> partner = Map.ofEntries(
                Map.entry(GgmlType.F32, GgmlType.F32), Map.entry(GgmlType.F16, GgmlType.F16),
                Map.entry(GgmlType.BF16, GgmlType.BF16),
                Map.entry(GgmlType.Q4_0, GgmlType.Q8_0), Map.entry(GgmlType.Q5_0, GgmlType.Q8_0),
                Map.entry(GgmlType.Q8_0, GgmlType.Q8_0),
                Map.entry(GgmlType.Q4_1, GgmlType.Q8_1), Map.entry(GgmlType.Q5_1, GgmlType.Q8_1),
                Map.entry(GgmlType.Q2_K, GgmlType.Q8_K), Map.entry(GgmlType.Q3_K, GgmlType.Q8_K),
                Map.entry(GgmlType.Q4_K, GgmlType.Q8_K), Map.entry(GgmlType.Q5_K, GgmlType.Q8_K),
                Map.entry(GgmlType.Q6_K, GgmlType.Q8_K));
        for (GgmlType type : GgmlType.values()) {
            assertEquals(partner.containsKey(type), WeightFormats.isSupported(type), type.toString());
        }
        partner.forEach((type, act) -> {
            WeightFormat f = WeightFormats.of(type);
            assertSame(type, f.type());
            assertSame(act, f.activationType());
            assertSame(act, ActivationFormats.partnerOf(f).type());
            assertEquals(type.bytesFor(4 * 256), f.rowBytes(4 * 256));
        });
    }

    @Test
    void unsupportedTypeNamesTensorAndType() {
        UnsupportedWeightTypeException e = assertThrows(UnsupportedWeightTypeException.class,
                () -> WeightFormats.require(GgmlType.IQ2_XS, "blk.0.attn_q.weight"));
        assertEquals("tensor blk.0.attn_q.weight has type IQ2_XS, which Llamux does not support", e.getMessage());
        assertSame(GgmlType.IQ2_XS, e.type());
        IllegalArgumentException plain = assertThrows(IllegalArgumentException.class,
                () -> WeightFormats.of(GgmlType.Q8_K));
        assertTrue(plain.getMessage().contains("Q8_K"), plain.getMessage());
        assertFalse(WeightFormats.isSupported(GgmlType.MXFP4));
        assertThrows(IllegalArgumentException.class, () -> ActivationFormats.of(GgmlType.Q4_0));
    }

    @Test
    void partialBlocksAreRejected() {
        WeightFormat f = WeightFormats.of(GgmlType.Q4_K);
        MemorySegment w = Arena.ofAuto().allocate(2 * 144);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> f.dequantize(w, 0, new float[300], 0, 300));
        assertTrue(e.getMessage().contains("Q4_K"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Activations(GgmlType.Q8_0, 33, 1));
    }
}
