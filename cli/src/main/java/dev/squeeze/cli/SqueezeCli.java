package dev.squeeze.cli;

import dev.squeeze.models.BadInputException;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.Map;

/**
 * Builds the command line for {@code main} and for tests, with one error policy: a failure is one
 * readable line on stderr (the stack trace only with {@code --verbose}) and a named exit code.
 */
public final class SqueezeCli {
    private SqueezeCli() {
    }

    /** The root command; {@code env} supplies SQUEEZE_HOME, SQUEEZE_LEDGER and SQUEEZE_DATA. */
    public static CommandLine commandLine(Map<String, String> env) {
        CommandLine cli = new CommandLine(new SqueezeCommand(env));
        cli.setExecutionExceptionHandler(SqueezeCli::handle);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    private static int handle(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        PrintWriter err = command.getErr();
        boolean verbose = parsed.expandedArgs().contains("--verbose") || parsed.expandedArgs().contains("-v");
        int code = e instanceof BadInputException ? ExitCodes.BAD_INPUT : ExitCodes.FAILURE;
        String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        err.println("squeeze " + command.getCommandName() + ": " + (code == ExitCodes.BAD_INPUT ? "" : "error: ")
                + message.replace('\n', ' '));
        if (verbose) {
            e.printStackTrace(err);
        } else if (code == ExitCodes.FAILURE && !(e instanceof dev.squeeze.compress.train.TrainingDivergedException)) {
            err.println("(run again with --verbose for the stack trace)");
        }
        err.flush();
        return code;
    }
}
