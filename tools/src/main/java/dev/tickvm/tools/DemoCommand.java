package dev.tickvm.tools;

import dev.tickvm.images.GuestImages;
import dev.tickvm.machine.VmExit;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Shows what tickvm does: boots rdtsc-loop (1,000,000 trapped RDTSCs, checked monotonic)",
            "and smp-hello on 4 vCPUs, on the virtual host clock, and prints what the guests report."},
        footer = {"", "Examples:",
            "  ./tickvm demo",
            "  ./tickvm demo --unicorn-lib /usr/lib/x86_64-linux-gnu/libunicorn.so.2   on another Unicorn"})
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        var unicorn = Main.unicorn();
        PrintStream out = System.out;
        out.println("tickvm demo on " + unicorn.describe());
        int failures = 0;
        failures += step(out, "rdtsc-loop", 1);
        failures += step(out, "smp-hello", 4);
        out.println(failures == 0 ? "demo: all guests did what they promised" : "demo: " + failures + " guest(s) failed");
        return failures == 0 ? 0 : 1;
    }

    private static int step(PrintStream out, String name, int vcpus) {
        out.println();
        out.println("== " + name + " on " + vcpus + " vCPU" + (vcpus == 1 ? "" : "s") + ": "
                + GuestImages.require(name).description());
        GuestRun.Result r = new GuestRun(GuestImages.require(name)).vcpus(vcpus).run(out::write);
        out.flush();
        out.println("-- " + r.summary("virtual"));
        return r.exit() instanceof VmExit.Exited e && e.code() == 0 ? 0 : 1;
    }
}
