package org.jtune.tensor.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The PTX the build put in the jar, checked without a GPU: every module exists for sm_80 and sm_90 with the
 * target and the ISA it was built for, every kernel of {@link CudaKernels} is an {@code .entry} there with
 * exactly the parameter kinds its launch site passes (pointers and longs .u64, ints .u32, floats .f32, the
 * structs as byte arrays of {@link CudaLayouts}' sizes), and no entry is left without a launch site.
 * Skipped where the build had no nvcc (the build says so).
 */
class PtxSignatureTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);
    private static final Pattern PARAM = Pattern.compile("\\.param (?:\\.align (\\d+) )?(\\.\\w+) \\w+(?:\\[(\\d+)])?");

    private static String ptx(String module, int arch) throws IOException {
        try (InputStream in = PtxSignatureTest.class.getResourceAsStream(PtxResources.resourceName(module, arch))) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static void assumeBuilt() throws IOException {
        assumeTrue(ptx("strided", 90) != null, "the build had no nvcc: no PTX to check");
    }

    @Test
    void everyModuleIsBuiltForBothArchitectures() throws IOException {
        assumeBuilt();
        for (String m : CudaKernels.modules()) {
            for (int arch : PtxResources.ARCHS) {
                String text = ptx(m, arch);
                assertNotNull(text, m + " for sm_" + arch);
                assertTrue(text.contains(".target sm_" + arch), m + ".sm_" + arch + " targets sm_" + arch);
                assertTrue(text.contains(".address_size 64"), m + " is 64-bit PTX");
            }
        }
    }

    @Test
    void everyLaunchSiteMatchesItsEntry() throws IOException {
        assumeBuilt();
        for (int arch : PtxResources.ARCHS) {
            Set<String> launched = new HashSet<>();
            for (KernelSpec k : CudaKernels.ALL) {
                String text = ptx(k.module(), arch);
                List<String[]> params = entryParams(text, k.name());
                assertNotNull(params, k.name() + " is not an entry of " + k.module() + ".sm_" + arch);
                assertEquals(k.params().size(), params.size(), k.name() + " parameter count (sm_" + arch + ")");
                for (int i = 0; i < params.size(); i++) {
                    KernelSpec.Param want = k.params().get(i);
                    String[] got = params.get(i);
                    assertEquals(want.ptxType(), got[1], k.name() + " parameter " + i + " (sm_" + arch + ")");
                    if (want == KernelSpec.Param.STRUCT) {
                        int size = Integer.parseInt(got[2]);
                        assertTrue(size == CudaLayouts.STRIDED_LAYOUT_BYTES || size == CudaLayouts.ATT_SHAPE_BYTES,
                                k.name() + " struct of " + size + " B is not one CudaLayouts packs");
                        int expected = k.name().startsWith("attention") || k.name().startsWith("flash") ? CudaLayouts.ATT_SHAPE_BYTES : CudaLayouts.STRIDED_LAYOUT_BYTES;
                        assertEquals(expected, size, k.name() + " struct size");
                    }
                }
                launched.add(k.module() + "/" + k.name());
            }
            for (String m : CudaKernels.modules()) {
                Matcher e = ENTRY.matcher(ptx(m, arch));
                while (e.find()) assertTrue(launched.contains(m + "/" + e.group(1)), "entry " + e.group(1) + " of " + m + " has no launch site");
            }
        }
    }

    /** {align, type, size} per parameter of entry {@code name}, or null when there is no such entry. */
    static List<String[]> entryParams(String ptx, String name) {
        Matcher e = ENTRY.matcher(ptx);
        while (e.find()) {
            if (!e.group(1).equals(name)) continue;
            List<String[]> out = new ArrayList<>();
            Matcher p = PARAM.matcher(e.group(2));
            while (p.find()) out.add(new String[] {p.group(1), p.group(2), p.group(3)});
            return out;
        }
        return null;
    }
}
