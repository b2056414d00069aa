package dev.tickvm.tools;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Keeps HotSpot's fatal-error banner off stdout (issue 11.3). When the JVM dies from a signal
 * (a fault inside Unicorn), HotSpot prints its "A fatal error has been detected" banner to file
 * descriptor 1 whatever -XX:+DisplayVMOutputToStderr says (measured on Temurin 25.0.3), where it
 * mixed with serial or JSON output. So ./tickvm starts the JVM with fd 1 on stderr and the real
 * stdout on the descriptor named by {@value #ENV}; this class points System.out at that one.
 * Writes go through libc write(2) on the inherited descriptor (reopening /proc/self/fd/N would
 * truncate a redirected file or fail on a socket).
 */
final class StdoutFd {
    static final String ENV = "TICKVM_STDOUT_FD";
    private static final int EINTR = 4;

    private StdoutFd() {
    }

    /** Points System.out at the descriptor in {@value #ENV}, if set and valid; else leaves it. */
    static void install() {
        String value = System.getenv(ENV);
        if (value == null || !value.matches("[0-9]{1,4}")
                || !java.nio.file.Files.exists(java.nio.file.Path.of("/proc/self/fd/" + value))) {
            return; // not set, or not open here (a child JVM inherits the variable, not the descriptor)
        }
        try {
            OutputStream fd = new FdOutputStream(Integer.parseInt(value));
            System.setOut(new PrintStream(new BufferedOutputStream(fd, 8192), true, System.out.charset()));
        } catch (RuntimeException | LinkageError e) {
            // No native access or no libc: stdout stays fd 1, which is only untidy on a crash.
        }
    }

    /** An OutputStream over a raw file descriptor, via libc write(2). */
    private static final class FdOutputStream extends OutputStream {
        private static final StructLayout STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        private static final MethodHandle WRITE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("write").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG),
                Linker.Option.captureCallState("errno"));
        private final int fd;

        FdOutputStream(int fd) {
            this.fd = fd;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(Math.max(len, 1));
                MemorySegment.copy(b, off, buf, ValueLayout.JAVA_BYTE, 0, len);
                MemorySegment state = arena.allocate(STATE);
                long done = 0;
                while (done < len) {
                    long n = (long) WRITE.invokeExact(state, fd, buf.asSlice(done), len - done);
                    if (n >= 0) {
                        done += n;
                    } else if ((int) ERRNO.get(state, 0L) != EINTR) {
                        throw new IOException("write to stdout failed (errno " + (int) ERRNO.get(state, 0L) + ")");
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }
    }
}
