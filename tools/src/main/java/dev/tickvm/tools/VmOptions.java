package dev.tickvm.tools;

import dev.tickvm.machine.Machine;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.IntConsumer;
import picocli.CommandLine.Option;

/** The options of every command that runs a VM: its budget, its quantum, and where serial output goes. */
final class VmOptions {

    @Option(names = "--budget", paramLabel = "BLOCKS", defaultValue = "" + Machine.DEFAULT_BUDGET,
            description = "Translated blocks the VM may run before it is cut off as a runaway (default: ${DEFAULT-VALUE}).")
    long budget;

    @Option(names = "--quantum", paramLabel = "BLOCKS", defaultValue = "" + Machine.DEFAULT_QUANTUM,
            description = "Blocks a vCPU runs before the next one's turn (default: ${DEFAULT-VALUE}).")
    long quantum;

    @Option(names = "--serial", paramLabel = "FILE", description = "Write the guest's serial output to FILE instead of stdout.")
    Path serial;

    /** The serial file, opened (and truncated) now, or null for stdout; open it after every check. */
    OutputStream openSerial() throws IOException {
        return serial == null ? null : new FileOutputStream(serial.toFile());
    }

    /** Where the guest's bytes go: {@code file} if open, else stdout. */
    static IntConsumer sink(OutputStream file) {
        return file == null ? System.out::write : b -> {
            try {
                file.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }
}
