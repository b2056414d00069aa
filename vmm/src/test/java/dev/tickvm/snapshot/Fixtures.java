package dev.tickvm.snapshot;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Snapshot contents for tests: headers, RAM of known content, component sections. */
final class Fixtures {
    static final long PAGE = 4096;

    private Fixtures() {
    }

    static SnapshotHeader header(int vcpus, long ramSize, long generation) {
        return new SnapshotHeader("0.1.0-test", "2.1.1",
                Map.of("name", "source", "tsc-hz", "2999999500", "tsc-khz", "2999999", "frac-bits", "48"),
                vcpus, ramSize, new SaveTimes(generation, 1_000_000_000L + generation, 1_767_225_600_000_000_000L, 3_000_000_000L));
    }

    /** Every byte random. */
    static MemorySegment randomRam(Arena arena, long size, long seed) {
        MemorySegment ram = arena.allocate(size, PAGE);
        SplittableRandom random = new SplittableRandom(seed);
        for (long at = 0; at < size; at += 8) {
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
        }
        return ram;
    }

    /**
     * Mostly zero: one page in {@code every} random, with a few edge cases among the zero pages:
     * a page whose only non-zero byte is its last, one whose only one is its first, a run of
     * three random pages, and the last page of RAM random.
     */
    static MemorySegment sparseRam(Arena arena, long size, long seed, int every) {
        MemorySegment ram = arena.allocate(size, PAGE);
        SplittableRandom random = new SplittableRandom(seed);
        long pages = size / PAGE;
        for (long p = 0; p < pages; p++) {
            if (p % every == every / 2 || p == pages - 1) {
                fillRandom(ram, p, random);
            }
        }
        if (pages > 12) {
            ram.set(ValueLayout.JAVA_BYTE, 3 * PAGE - 1, (byte) 0x5a);
            ram.set(ValueLayout.JAVA_BYTE, 5 * PAGE, (byte) 0xa5);
            for (long p = 8; p < 11; p++) {
                fillRandom(ram, p, random);
            }
        }
        return ram;
    }

    private static void fillRandom(MemorySegment ram, long page, SplittableRandom random) {
        for (long at = page * PAGE; at < (page + 1) * PAGE; at += 8) {
            long v = random.nextLong();
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, at, v == 0 ? 1 : v);
        }
    }

    /** VCPU and KVM_VCPU for each vCPU, KVM_VM, DEVICES and PATCHES, each naming itself and the generation. */
    static List<Section> sections(int vcpus, long generation) {
        List<Section> sections = new ArrayList<>();
        for (int i = 0; i < vcpus; i++) {
            sections.add(new Section(SectionType.VCPU, i, component("vcpu", i, generation)));
            sections.add(new Section(SectionType.KVM_VCPU, i, component("kvm-vcpu", i, generation)));
        }
        sections.add(new Section(SectionType.KVM_VM, 0, component("kvm-vm", 0, generation)));
        sections.add(new Section(SectionType.DEVICES, 0, component("devices", 0, generation)));
        sections.add(new Section(SectionType.PATCHES, 0, component("patches", 0, generation)));
        return sections;
    }

    static SectionWriter component(String name, int index, long generation) {
        return new SectionWriter().putString(name).putInt(index).putLong(generation)
                .putBytes(new byte[] {1, 2, 3, (byte) index}).putBoolean(index % 2 == 0);
    }

    /** Reads back what {@link #component} wrote, checking the name and index; returns the generation. */
    static long readComponent(SectionReader r, String name, int index) throws SnapshotFormatException {
        if (!r.getString().equals(name) || r.getInt() != index) {
            throw r.invalid("not " + name + " " + index);
        }
        long generation = r.getLong();
        byte[] bytes = r.getBytes(16);
        if (bytes.length != 4 || bytes[3] != (byte) index || r.getBoolean() != (index % 2 == 0)) {
            throw r.invalid("bad tail");
        }
        r.finish();
        return generation;
    }

    static SnapshotContents contents(int vcpus, MemorySegment ram, long generation) {
        return new SnapshotContents(header(vcpus, ram.byteSize(), generation), ram, List.of(),
                sections(vcpus, generation));
    }
}
