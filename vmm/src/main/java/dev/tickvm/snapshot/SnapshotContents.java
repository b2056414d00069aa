package dev.tickvm.snapshot;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything one snapshot file holds, checked here against the same rules a reader applies, so
 * that {@link Snapshot#save} never writes a file that {@link Snapshot#open} would refuse.
 *
 * @param header        versions, source host, vCPU count, RAM size, times
 * @param ram           guest RAM, {@code header.ramSize()} bytes; read, not copied, while saving
 * @param ramOverrides  bytes to store instead of RAM's at some addresses (the original bytes of
 *                      patched sites): inside RAM, not overlapping; kept sorted by address
 * @param sections      the component sections: exactly one VCPU per vCPU, KVM_VCPU for every vCPU
 *                      or none, the others at most once; kept in file order (type id, then index)
 */
public record SnapshotContents(SnapshotHeader header, MemorySegment ram, List<ByteOverride> ramOverrides,
        List<Section> sections) {

    public SnapshotContents {
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(ram, "ram");
        if (ram.byteSize() != header.ramSize()) {
            throw new IllegalArgumentException("RAM segment is " + ram.byteSize() + " bytes, the header says "
                    + header.ramSize());
        }
        List<ByteOverride> overrides = new ArrayList<>(ramOverrides);
        overrides.sort(Comparator.comparingLong(ByteOverride::address));
        for (int i = 0; i < overrides.size(); i++) {
            ByteOverride o = overrides.get(i);
            if (o.end() > header.ramSize()) {
                throw new IllegalArgumentException(String.format("byte override at 0x%x (%d bytes) ends outside RAM",
                        o.address(), o.bytes().length));
            }
            if (i > 0 && o.address() < overrides.get(i - 1).end()) {
                throw new IllegalArgumentException(String.format("byte overrides at 0x%x and 0x%x overlap",
                        overrides.get(i - 1).address(), o.address()));
            }
        }
        ramOverrides = List.copyOf(overrides);

        List<Section> ordered = new ArrayList<>(sections);
        ordered.sort(Comparator.comparingInt((Section s) -> s.type().id()).thenComparingInt(Section::index));
        Set<SectionType.Key> present = new HashSet<>();
        for (Section s : ordered) {
            Format.require(s.type().indexProblem(s.index(), header.vcpuCount()));
            if (!present.add(s.key())) {
                throw new IllegalArgumentException("two " + s.type().label(s.index()) + " sections");
            }
        }
        present.add(new SectionType.Key(SectionType.HEADER, 0));
        present.add(new SectionType.Key(SectionType.RAM, 0));
        present.add(new SectionType.Key(SectionType.END, 0));
        Format.require(SectionType.firstMissing(present, header.vcpuCount()));
        sections = List.copyOf(ordered);
    }
}
