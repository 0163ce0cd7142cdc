package io.stevedore.conformance;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * A test that needs what the daemon needs in production: root (to own files as other users, make
 * device nodes, mount). Skipped elsewhere; CI runs as root, so there it always runs.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("root")
@EnabledIf("io.stevedore.conformance.Host#isRoot")
public @interface RequiresRoot {}
