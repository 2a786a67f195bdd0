package dev.squeeze.compress.ledger;

/**
 * A process that starts one run in the ledger at {@code args[0]}, prints its id and then waits to be killed:
 * what a training process looks like to the ledger when kill -9 or a power cut ends it.
 */
public final class HeldRun {

    private HeldRun() {
    }

    public static void main(String[] args) throws InterruptedException {
        RunLedger ledger = RunLedger.open(args[0]);
        RunRecord run = ledger.start(NewRun.of("train", "mlp-tiny", "fashion-mnist", null));
        System.out.println("started " + run.id());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
