package dev.squeeze.cli;

import dev.squeeze.core.BadInputException;
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
        reflowDescriptions(cli);
        return cli;
    }

    /**
     * Commands write their descriptions as source lines of any length; picocli would print each as its own line and
     * wrap it again. Joining each paragraph (lines up to a blank one) lets picocli wrap it once to the width.
     */
    private static void reflowDescriptions(CommandLine cli) {
        var usage = cli.getCommandSpec().usageMessage();
        java.util.List<String> paragraphs = new java.util.ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : usage.description()) {
            if (line.isBlank()) {
                if (current.length() > 0) paragraphs.add(current.toString());
                paragraphs.add("");
                current.setLength(0);
            } else {
                if (current.length() > 0) current.append(' ');
                current.append(line.strip());
            }
        }
        if (current.length() > 0) paragraphs.add(current.toString());
        usage.description(paragraphs.toArray(String[]::new));
        cli.getSubcommands().values().forEach(SqueezeCli::reflowDescriptions);
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
        } else if (code == ExitCodes.FAILURE && !(e instanceof dev.squeeze.compress.train.TrainingDivergedException)
                && !(e instanceof dev.squeeze.core.DiskFullException)) {
            // Those two messages say all there is to say; a stack trace would not help the user.
            err.println("(run again with --verbose for the stack trace)");
        }
        err.flush();
        return code;
    }
}
