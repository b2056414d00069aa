package dev.tickvm.tools;

import dev.tickvm.machine.Machine;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntConsumer;
import picocli.CommandLine.Option;

/** The options of every command that runs a VM: its budget, its quantum, and where serial output goes. */
final class VmOptions {

    @Option(names = "--budget", paramLabel = "BLOCKS", defaultValue = "" + Machine.DEFAULT_BUDGET,
            description = "Translated blocks the VM may run before it is cut off as a runaway (default: ${DEFAULT-VALUE});"
                    + " each new trap site past the first 1,024 counts as 8,192 blocks, what it costs.")
    long budget;

    @Option(names = "--quantum", paramLabel = "BLOCKS", defaultValue = "" + Machine.DEFAULT_QUANTUM,
            description = {"Blocks a vCPU runs before the next one's turn (default: ${DEFAULT-VALUE}),",
                "at least 2."})
    long quantum;

    @Option(names = "--serial", paramLabel = "FILE", description = "Write the guest's serial output to FILE instead of stdout. FILE is replaced only once"
            + " the guest runs (a refused command leaves it as it was), and may not be the image or snapshot.")
    Path serial;

    /**
     * The serial file, or null for stdout. Nothing is written to the file yet: it is truncated at
     * the guest's first byte, or by {@link SerialFile#finish()} once the run has ended, so a run
     * refused before the guest ran (a bad option, a bad snapshot) leaves it as it was. {@code
     * inputs} are files the command reads (the image, the snapshot): --serial naming one of them is
     * refused instead of destroying it.
     */
    SerialFile openSerial(Path... inputs) throws IOException {
        if (serial == null) {
            return null;
        }
        if (Files.isDirectory(serial)) {
            throw new IllegalArgumentException("--serial " + serial + " is a directory");
        }
        Path parent = serial.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            // Checked before anything runs, like --junit's directory: a bad argument (exit 2).
            throw new IllegalArgumentException("--serial " + serial + ": no such directory");
        }
        for (Path input : inputs) {
            if (input != null && Files.exists(serial) && Files.exists(input) && Files.isSameFile(serial, input)) {
                throw new IllegalArgumentException("--serial " + serial + " is also the command's input " + input
                        + "; writing the guest's output there would destroy it");
            }
        }
        return new SerialFile(serial);
    }

    /** The --serial file, opened (and truncated) only when the first byte comes or the run ends. */
    static final class SerialFile extends OutputStream {
        private final Path path;
        private OutputStream out;

        private SerialFile(Path path) {
            this.path = path;
        }

        private OutputStream out() throws IOException {
            if (out == null) {
                out = new java.io.BufferedOutputStream(new FileOutputStream(path.toFile()));
            }
            return out;
        }

        @Override
        public void write(int b) throws IOException {
            out().write(b);
        }

        /** The run ended: a guest that printed nothing leaves an empty file, not the last run's. */
        void finish() throws IOException {
            out().flush();
        }

        @Override
        public void close() throws IOException {
            if (out != null) {
                out.close();
            }
        }
    }

    /**
     * A guest byte to stdout. At each line's end the stream is flushed and its error flag read:
     * once stdout is gone (a reader such as 'head' closed the pipe) the run ends then, instead of
     * running on to its end with its output dropped.
     */
    private static void toStdout(int b) {
        System.out.write(b);
        if (b == '\n' && System.out.checkError()) {
            throw new StdoutGone();
        }
    }

    /** Where the guest's bytes go: {@code file} if open, else stdout. */
    static IntConsumer sink(OutputStream file) {
        return file == null ? VmOptions::toStdout : b -> {
            try {
                file.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /** Thrown out of the guest's run when stdout is gone; Main says so once, in its own words. */
    static final class StdoutGone extends UncheckedIOException {
        StdoutGone() {
            super(new IOException("stdout is closed or full: the guest's output has nowhere to go"));
        }
    }
}
