package dev.tickvm.snapshot;

import java.util.Objects;

/**
 * One component section to save: its type, its index (the vCPU id for per-vCPU types, else 0)
 * and the payload its owner produced, typically with a {@link SectionWriter}. HEADER, RAM and
 * END are written by {@link Snapshot#save} itself.
 *
 * @param payload the bytes (copied), at most 64 MiB
 */
public record Section(SectionType type, int index, byte[] payload) {
    public Section {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
        if (type == SectionType.HEADER || type == SectionType.RAM || type == SectionType.END) {
            throw new IllegalArgumentException(type + " is written by Snapshot.save itself, not given as a section");
        }
        Format.require(type.indexProblem(index, 0));
        if (payload.length > type.maxPayload()) {
            throw new IllegalArgumentException(type + " payload is " + payload.length + " bytes, over the limit of "
                    + type.maxPayload());
        }
        payload = payload.clone();
    }

    /** The section a writer built. */
    public Section(SectionType type, int index, SectionWriter writer) {
        this(type, index, writer.toByteArray());
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    /** The payload without a copy, for the file writer. */
    byte[] bytes() {
        return payload;
    }

    SectionType.Key key() {
        return new SectionType.Key(type, index);
    }
}
