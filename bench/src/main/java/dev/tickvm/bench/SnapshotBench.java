package dev.tickvm.bench;

import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SaveTimes;
import dev.tickvm.snapshot.Section;
import dev.tickvm.snapshot.SectionType;
import dev.tickvm.snapshot.Snapshot;
import dev.tickvm.snapshot.SnapshotContents;
import dev.tickvm.snapshot.SnapshotHeader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Saving and restoring a snapshot file, per guest RAM size and content; Table turns the time
 * per operation into MB/s of guest RAM (10^6 bytes).
 *
 * <ul>
 * <li>save: {@link Snapshot#save} of one vCPU's worth of sections and the RAM, all of it: the
 *     zero-page scan, the copy into the staging buffer, the CRC, the writes, fsync of the file,
 *     the rename and fsync of the directory. So it includes the disk.
 * <li>restore: {@link Snapshot#open} (which checks every CRC of the file) and
 *     {@link Snapshot#readRam} into a freshly allocated segment (zeroed by the allocation, then the
 *     stored pages read and their CRC checked again). The file was just written, so it is read
 *     from the page cache: this is the file layer's cost, not the disk's.
 * <li>restoreInto: the same into a segment allocated once, in setup: the restore without the
 *     JDK's zeroing of a new segment and the kernel's page faults for it, i.e. the file layer
 *     alone. (Every restore writes the same bytes, so the pages the file leaves out stay zero,
 *     as {@link Snapshot#readRamInto} requires.)
 * </ul>
 *
 * Content: "random" fills every page with random bytes (nothing to skip); "sparse" fills one
 * page in 32 with random bytes and leaves the others zero (about 3% stored: a guest that has
 * touched little of its RAM), so it measures mostly the zero-page scan on save and the zeroed
 * allocation on restore.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class SnapshotBench {
    private static final long PAGE = 4096;

    @Param({"16", "64", "256"})
    public int ramMiB;

    @Param({"sparse", "random"})
    public String content;

    private Arena arena;
    private MemorySegment ram;
    private SnapshotContents contents;
    private Path dir;
    private Path file;
    private MemorySegment restored;
    private MemorySegment target;
    private boolean targetFilled;

    @Setup
    public void prepare() throws Exception {
        arena = Arena.ofShared();
        ram = arena.allocate((long) ramMiB << 20, PAGE);
        SplittableRandom random = new SplittableRandom(ramMiB);
        long pages = ram.byteSize() / PAGE;
        for (long p = 0; p < pages; p++) {
            if (content.equals("random") || p % 32 == 0) {
                for (long at = p * PAGE; at < (p + 1) * PAGE; at += 8) {
                    ram.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong() | 1);
                }
            }
        }
        SnapshotHeader header = new SnapshotHeader("bench", "2.1.1", Map.of("name", "bench"), 1, ram.byteSize(),
                new SaveTimes(1, 2, 3, 4));
        contents = new SnapshotContents(header, ram, List.of(), List.of(new Section(SectionType.VCPU, 0, new byte[512])));
        dir = Files.createTempDirectory("tickvm-snapshot-bench");
        file = dir.resolve("vm.tvm");
        Snapshot.save(file, contents);
        target = arena.allocate(ram.byteSize(), PAGE);
    }

    @Benchmark
    public long save() throws Exception {
        return Snapshot.save(file, contents).fileSize();
    }

    @Benchmark
    public byte restore() throws Exception {
        try (Snapshot s = Snapshot.open(file); Arena target = Arena.ofConfined()) {
            MemorySegment r = s.readRam(target, Progress.NONE);
            if (restored == null) {
                restored = arena.allocate(r.byteSize(), PAGE).copyFrom(r); // checked once, at the end
            }
            return r.get(ValueLayout.JAVA_BYTE, r.byteSize() - 1);
        }
    }

    @Benchmark
    public byte restoreInto() throws Exception {
        try (Snapshot s = Snapshot.open(file)) {
            s.readRamInto(target, Progress.NONE);
            targetFilled = true;
            return target.get(ValueLayout.JAVA_BYTE, target.byteSize() - 1);
        }
    }

    private void verify(MemorySegment restoredRam) {
        if (restoredRam != null && restoredRam.mismatch(ram) != -1) {
            throw new IllegalStateException("restored RAM differs from the saved RAM at " + restoredRam.mismatch(ram));
        }
    }

    @TearDown
    public void check() throws IOException {
        try {
            verify(restored);
            verify(targetFilled ? target : null);
        } finally {
            arena.close();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }
}
