package dev.squeeze.compress;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * compress's package layout, checked on its compiled main classes: no cycle between its packages (low-level run
 * files in artifacts, the ledger above them, run lookups in runs above the ledger, the network representation in
 * network below quant and onnx), and no picocli or Micronaut: the engine is called by the CLI and the server, never
 * the other way round.
 */
class PackageLayoutTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.squeeze.compress");

    static final ArchRule NO_CYCLES = slices().matching("dev.squeeze.compress.(*)..").should().beFreeOfCycles();

    static final ArchRule NO_CLI_OR_SERVER = noClasses().that().resideInAPackage("dev.squeeze.compress..")
            .should().dependOnClassesThat().resideInAnyPackage("picocli..", "io.micronaut..")
            .because("the engine's services are plain Java; picocli commands and Micronaut controllers call them");

    @Test
    void compressPackagesHaveNoCycles() {
        NO_CYCLES.check(MAIN);
    }

    @Test
    void compressDoesNotUsePicocliOrMicronaut() {
        NO_CLI_OR_SERVER.check(MAIN);
    }

    /** The rules ran on compress's real packages, not on an empty import. */
    @Test
    void theImportFoundCompressPackages() {
        for (String pkg : new String[]{"artifacts", "ledger", "runs", "train", "network", "quant", "onnx", "prune",
                "distill", "eval", "doctor", "sweep", "report", "saved"}) {
            assertTrue(MAIN.containPackage("dev.squeeze.compress." + pkg), pkg);
        }
    }
}
