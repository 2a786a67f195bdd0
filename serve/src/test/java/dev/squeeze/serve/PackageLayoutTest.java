package dev.squeeze.serve;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * serve's package layout, checked on its compiled main classes: serve.runtime at the bottom, serve.bench,
 * serve.load and serve.report on top of it, serve.http and serve.grpc (the servers) above them all, the generated
 * gRPC messages and stubs (serve.grpc.v2) needing nothing of Squeeze, no cycle between serve's packages, and nothing
 * of DL4J or ND4J (serve runs ONNX files with ONNX Runtime only).
 */
class PackageLayoutTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.squeeze.serve");

    static final ArchRule RUNTIME_AT_THE_BOTTOM = noClasses().that().resideInAPackage("dev.squeeze.serve.runtime..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.squeeze.serve.bench..", "dev.squeeze.serve.load..",
                    "dev.squeeze.serve.report..", "dev.squeeze.serve.http..", "dev.squeeze.serve.grpc..")
            .because("serving must not need the benchmark, the load generator, the report or the web layer");

    static final ArchRule HTTP_ON_TOP = noClasses().that().resideInAnyPackage("dev.squeeze.serve.bench..",
                    "dev.squeeze.serve.load..", "dev.squeeze.serve.report..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.squeeze.serve.http..", "dev.squeeze.serve.grpc")
            .because("the benchmark, the load generator and the report work without a Micronaut server");

    static final ArchRule GENERATED_GRPC_STANDS_ALONE = noClasses().that().resideInAPackage("dev.squeeze.serve.grpc.v2")
            .should().dependOnClassesThat().resideOutsideOfPackages("dev.squeeze.serve.grpc.v2", "java..", "javax..",
                    "com.google.protobuf..", "com.google.common..", "io.grpc..")
            .because("clients (the load generator, other programs) use the generated messages and stubs without the server");

    /** Each package its own slice: the generated serve.grpc.v2 is not part of serve.grpc's. */
    static final ArchRule NO_CYCLES = slices().matching("dev.squeeze.serve.(**)").should().beFreeOfCycles();

    static final ArchRule NO_DL4J = noClasses().that().resideInAPackage("dev.squeeze.serve..")
            .should().dependOnClassesThat().resideInAnyPackage("org.deeplearning4j..", "org.nd4j..")
            .because("serve runs exported ONNX files with ONNX Runtime; DL4J stays in compress");

    @Test
    void runtimeUsesNoneOfBenchLoadReportOrHttp() {
        RUNTIME_AT_THE_BOTTOM.check(MAIN);
    }

    @Test
    void benchLoadAndReportDoNotUseHttp() {
        HTTP_ON_TOP.check(MAIN);
    }

    @Test
    void generatedGrpcCodeNeedsNothingOfSqueeze() {
        GENERATED_GRPC_STANDS_ALONE.check(MAIN);
    }

    @Test
    void servePackagesHaveNoCycles() {
        NO_CYCLES.check(MAIN);
    }

    @Test
    void serveDoesNotUseDl4jOrNd4j() {
        NO_DL4J.check(MAIN);
    }

    /**
     * DL4J is not on serve's compile classpath, so a violation cannot be tried in main code; this class (test-only,
     * where compress brings ND4J) shows the rule sees such a dependency, and that the importer found serve's packages.
     */
    @Test
    void rulesSeeWhatTheyForbid() {
        assertFalse(NO_DL4J.evaluate(new ClassFileImporter().importClasses(UsesNd4j.class)).getFailureReport().isEmpty());
        for (String pkg : new String[]{"runtime", "bench", "load", "report", "http", "grpc", "grpc.v2"}) {
            assertTrue(MAIN.containPackage("dev.squeeze.serve." + pkg), pkg);
        }
    }

    private static final class UsesNd4j {
        Object zeros() {
            return Nd4j.zeros(1);
        }
    }
}
