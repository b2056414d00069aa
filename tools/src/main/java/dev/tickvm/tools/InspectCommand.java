package dev.tickvm.tools;

import dev.tickvm.snapshot.FormatProblem;
import dev.tickvm.snapshot.SectionInfo;
import dev.tickvm.snapshot.Snapshot;
import dev.tickvm.snapshot.SnapshotHeader;
import dev.tickvm.snapshot.SnapshotIoException;
import dev.tickvm.snapshot.SnapshotReport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect",
        mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Describes a snapshot file: format version, header (versions, source host, vCPUs, RAM,",
            "the clocks at the save), every section with its offset, size and CRC status, and every problem",
            "found. A damaged file is described as far as it can be read. Exit code 0 when the file would",
            "restore, 1 when it would be refused (docs/SNAPSHOT.md has the layout)."},
        footer = {"", "Examples:",
            "  ./tickvm inspect cw.tvm",
            "  ./tickvm inspect cw.tvm --json        64-bit values as strings, so no JSON reader rounds them"})
final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "The snapshot file.")
    Path file;

    @Option(names = "--json", description = "One JSON object instead of text (docs/JSON.md).")
    boolean json;

    @Override
    public Integer call() throws IOException, SnapshotIoException {
        SnapshotReport report = Snapshot.inspect(file);
        PrintStream out = System.out;
        if (json) {
            out.println(Json.write(asMap(report)));
        } else {
            print(report, out);
        }
        out.flush();
        if (out.checkError()) {
            throw new IOException("could not write the report to stdout");
        }
        return report.valid() ? 0 : 1;
    }

    private static void print(SnapshotReport r, PrintStream out) {
        out.printf("%s: %,d bytes, format %s%n", r.file(), r.fileSize(),
                r.version() == null ? "unreadable" : r.version().major() + "." + r.version().minor());
        SnapshotHeader h = r.header();
        if (h != null) {
            out.printf("saved by tickvm %s on Unicorn %s: %s, %s of RAM%n", h.tickvmVersion(), h.unicornVersion(),
                    Words.count(h.vcpuCount(), "vCPU"), Sizes.format(h.ramSize()));
            out.printf("at true time %,d ns; source host raw %,d ns, realtime %,d ns, TSC %,d%n", h.times().trueNanos(),
                    h.times().hostMonotonicNanos(), h.times().hostRealtimeNanos(), h.times().hostTsc());
            List<String> host = new ArrayList<>();
            h.hostParameters().forEach((k, v) -> host.add(k + "=" + v));
            out.println("source host: " + String.join(" ", host));
        }
        if (r.ram() != null) {
            out.printf("RAM: %,d of %,d pages stored (the rest are zero) in %,d runs%n", r.ram().pagesStored(),
                    r.ram().ramSize() / 4096, r.ram().runs());
        }
        out.printf("%-10s %5s %12s %12s %-10s %s%n", "section", "index", "offset", "bytes", "crc32c", "status");
        for (SectionInfo s : r.sections()) {
            out.printf("%-10s %5d %12d %12d 0x%08x %s%n", s.name(), s.index(), s.offset(), s.payloadLength(), s.storedCrc(),
                    s.crc().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (r.valid()) {
            out.println("ok: the file would restore");
        } else {
            for (FormatProblem p : r.problems()) {
                out.println("problem: " + p);
            }
        }
    }

    /** The JSON object; 64-bit values are strings (docs/JSON.md). */
    static Map<String, Object> asMap(SnapshotReport r) {
        Map<String, Object> m = Json.envelope("inspect");
        m.put("file", r.file());
        m.put("fileSize", Long.toString(r.fileSize()));
        m.put("version", r.version() == null ? null : r.version().major() + "." + r.version().minor());
        SnapshotHeader h = r.header();
        if (h != null) {
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("tickvmVersion", h.tickvmVersion());
            header.put("unicornVersion", h.unicornVersion());
            header.put("vcpus", h.vcpuCount());
            header.put("ramSize", Long.toString(h.ramSize()));
            header.put("host", h.hostParameters());
            header.put("trueNanos", Long.toString(h.times().trueNanos()));
            header.put("hostRawNanos", Long.toString(h.times().hostMonotonicNanos()));
            header.put("hostRealtimeNanos", Long.toString(h.times().hostRealtimeNanos()));
            header.put("hostTsc", Long.toString(h.times().hostTsc()));
            m.put("header", header);
        }
        if (r.ram() != null) {
            m.put("ram", Map.of("size", Long.toString(r.ram().ramSize()), "pagesStored", Long.toString(r.ram().pagesStored()),
                    "runs", Long.toString(r.ram().runs())));
        }
        List<Map<String, Object>> sections = new ArrayList<>();
        for (SectionInfo s : r.sections()) {
            Map<String, Object> section = new LinkedHashMap<>();
            section.put("type", s.name());
            section.put("index", s.index());
            section.put("offset", Long.toString(s.offset()));
            section.put("bytes", Long.toString(s.payloadLength()));
            section.put("crc32c", String.format("0x%08x", s.storedCrc()));
            section.put("crc", s.crc().name().toLowerCase(java.util.Locale.ROOT));
            sections.add(section);
        }
        m.put("sections", sections);
        m.put("ok", r.valid());
        m.put("problems", r.problems().stream().map(FormatProblem::toString).toList());
        return m;
    }
}
