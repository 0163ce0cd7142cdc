package io.stevedore.server;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The daemon's package graph (STYLE C2): no cycles between its packages, and the lifecycle
 * packages never reach the gRPC edge. A cycle here is how a change in one
 * package starts to need a change in all of them.
 */
class PackageGraphTest {
    static JavaClasses daemon;

    @BeforeAll
    static void load() {
        daemon = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.stevedore.server");
    }

    @Test
    void packages_haveNoCycles() {
        slices().matching("io.stevedore.server.(*)..").should().beFreeOfCycles().check(daemon);
    }

    @Test
    void lifecyclePackages_neverReachTheGrpcEdge() {
        com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses()
                .that()
                .resideInAnyPackage(
                        "io.stevedore.server.container..",
                        "io.stevedore.server.sandbox..",
                        "io.stevedore.server.host..",
                        "io.stevedore.server.stats..",
                        "io.stevedore.server.image..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.stevedore.server.grpc..")
                .check(daemon);
    }
}
