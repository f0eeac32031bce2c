package io.llamux.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reference data in ../shared (read-only, never copied into the repo). A test that needs a
 * file there calls {@link #require}: on a developer's machine without it the test is skipped;
 * under CI ({@code CI=true}, as GitHub Actions and most CI services set) it fails, so a CI run
 * that lost its reference data cannot pass by skipping everything.
 */
public final class Shared {
    public static final Path ROOT = Path.of("..", "shared");

    private Shared() {
    }

    /** Whether this is a CI run, where missing reference data is a failure. */
    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** {@code ../shared/<relative>}, after {@link #require(Path)}. */
    public static Path require(String relative) {
        return require(ROOT.resolve(relative));
    }

    /** Returns {@code path}; skips the test when it does not exist (fails it when {@link #ci}). */
    public static Path require(Path path) {
        return require(path, ci());
    }

    /** {@link #require(Path)} as in a CI run ({@code ci}) or not. */
    public static Path require(Path path, boolean ci) {
        if (!Files.exists(path)) {
            String why = path + " is absent (reference data from ../shared)";
            if (ci) {
                fail(why + "; CI=true, so this is a failure, not a skip");
            }
            assumeTrue(false, why + "; skipping (with CI=true this fails)");
        }
        return path;
    }
}
