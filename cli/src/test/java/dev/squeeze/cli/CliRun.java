package dev.squeeze.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** One in-process invocation of the CLI: exit code, stdout, stderr. */
record CliRun(int exitCode, String out, String err) {

    static CliRun run(Path home, String... args) {
        return run(Map.of("SQUEEZE_HOME", home.toString()), args);
    }

    /** One invocation with exactly the environment {@code env}. */
    static CliRun run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = SqueezeCli.commandLine(env);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    static String fixtures() {
        return Path.of(System.getProperty("squeeze.fixtures"), "fashion-mnist").toString();
    }

    /** The lines of stderr that are errors (the dataset locator also reports where it found data). */
    long errorLines() {
        return err.lines().filter(l -> l.startsWith("squeeze ")).count();
    }
}
