package dev.squeeze.cli;

/** Entry point of the {@code squeeze} launcher. */
public final class SqueezeMain {
    private SqueezeMain() {
    }

    public static void main(String[] args) {
        System.exit(SqueezeCli.commandLine(System.getenv()).execute(args));
    }
}
