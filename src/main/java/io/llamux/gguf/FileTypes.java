package io.llamux.gguf;

/**
 * llama.cpp's names for {@code general.file_type} (enum llama_ftype in llama.h): the
 * quantization recipe the whole file was made with, as users know it (Q4_K_M).
 */
public final class FileTypes {
    /** Index = value; null = no such value. */
    private static final String[] NAMES = new String[41];

    static {
        String[] named = {
            "0=F32", "1=F16", "2=Q4_0", "3=Q4_1", "4=Q4_1_SOME_F16", "7=Q8_0", "8=Q5_0", "9=Q5_1", "10=Q2_K",
            "11=Q3_K_S", "12=Q3_K_M", "13=Q3_K_L", "14=Q4_K_S", "15=Q4_K_M", "16=Q5_K_S", "17=Q5_K_M", "18=Q6_K",
            "19=IQ2_XXS", "20=IQ2_XS", "21=Q2_K_S", "22=IQ3_XS", "23=IQ3_XXS", "24=IQ1_S", "25=IQ4_NL", "26=IQ3_S",
            "27=IQ3_M", "28=IQ2_S", "29=IQ2_M", "30=IQ4_XS", "31=IQ1_M", "32=BF16", "36=TQ1_0", "37=TQ2_0",
            "38=MXFP4_MOE", "39=NVFP4", "40=Q1_0",
        };
        for (String n : named) {
            String[] kv = n.split("=");
            NAMES[Integer.parseInt(kv[0])] = kv[1];
        }
    }

    private FileTypes() {
    }

    /** The name of a {@code general.file_type} value (an integer of any GGUF width), or null when it has none. */
    public static String name(Object value) {
        if (value instanceof Number v) {
            long l = v.longValue();
            return l >= 0 && l < NAMES.length ? NAMES[(int) l] : null;
        }
        return null;
    }

    /** The name of the file's {@code general.file_type}, or null when it has none or an unknown one. */
    public static String of(GgufFile f) {
        return name(f.metadata().get("general.file_type"));
    }
}
