package io.llamux.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Once compiled, every repacked matrix-vector kernel must allocate nothing (see
 * {@link DotAllocationTest}). A JVM of its own, apart from DotAllocationTest's (see pom.xml):
 * the plain dots of all fifteen weight types run there first, 256-bit vectors all, and the type
 * profiles they leave in the Vector API's shared methods then misled C2 on the 512-bit kernels
 * (it guessed the 256-bit classes at loop-carried vectors, and their operations fell back to
 * Java, boxing). No engine runs those fifteen dots; TokenLoopAllocationTest checks a real
 * decode.
 */
class RepackedAllocationTest {

    @ParameterizedTest
    @EnumSource(GgmlType.class)
    void aCompiledRepackedMatvecAllocatesNothing(GgmlType type) {
        RepackedFormat p = WeightFormats.repacked(type);
        assumeTrue(p != null, type + " has no repacked layout");
        int n = 4 * 256;
        Random rnd = new Random(43);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        int[] act = new int[p.activationInts(n)];
        MemorySegment w = Arena.ofAuto().allocate(2 * p.groupBytes(n), 64);
        for (long i = 0; i < w.byteSize(); i++) w.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt());
        float[] y = new float[2 * p.rows()];
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = -1;
        for (long end = DotAllocationTest.compileDeadline(); allocated != 0 && System.nanoTime() < end; ) {
            for (int i = 0; i < 10_000; i++) {
                p.prepareActivation(x, 0, n, act, 0);
                p.matvec(w, (i & 1) * p.groupBytes(n), act, 0, n, y, (i & 1) * p.rows());
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1_000; i++) {
                p.prepareActivation(x, 0, n, act, 0);
                p.matvec(w, (i & 1) * p.groupBytes(n), act, 0, n, y, (i & 1) * p.rows());
            }
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
        }
        assertEquals(0, allocated, type + ": 1000 compiled repacked matvecs allocated " + allocated + " bytes");
    }

}
