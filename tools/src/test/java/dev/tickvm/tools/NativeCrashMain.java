package dev.tickvm.tools;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JVM that dies the way a Unicorn fault kills tickvm's (issue 11.3), deterministically and at
 * once: it fills the crash record as a running vCPU would (engine "test engine", RIP 0x100000 on
 * vCPU 2), then, after a line on stdout as tickvm's Main would print it ({@link StdoutFd}), calls libc's strlen on address 16, a SIGSEGV in native code that HotSpot's
 * handler turns into its fatal-error banner, an hs_err log and abort().
 */
public final class NativeCrashMain {
    private NativeCrashMain() {
    }

    public static void main(String[] args) throws Throwable {
        StdoutFd.install();
        String record = System.getenv("TICKVM_CRASH_FILE");
        if (record != null) {
            ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
            b.put("test engine".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            b.putLong(128, 0x100000L).putInt(136, 2).put(140, (byte) 1);
            writeRecord(Path.of(record), b.array());
        }
        System.out.println("guest output before the crash");
        System.out.flush();
        Linker linker = Linker.nativeLinker();
        MethodHandle strlen = linker.downcallHandle(linker.defaultLookup().find("strlen").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        long n = (long) strlen.invokeExact(MemorySegment.ofAddress(16));
        System.out.println("strlen returned " + n);
    }

    private static void writeRecord(Path path, byte[] bytes) throws IOException {
        Files.write(path, bytes);
    }
}
