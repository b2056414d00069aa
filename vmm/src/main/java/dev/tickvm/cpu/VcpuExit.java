package dev.tickvm.cpu;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Why {@link Vcpu#run} returned: a closed set, handled by exhaustive switches. Trapped time
 * instructions never appear here: the vCPU emulates them and carries on.
 */
public sealed interface VcpuExit {

    /** The block quantum ran out; the vCPU is runnable. */
    record Preempted() implements VcpuExit {
    }

    /** The guest executed HLT; with no interrupts to wake it, it stays halted. */
    record Halted(long rip) implements VcpuExit {
    }

    /** An OUT that its device wants the VMM to look at (e.g. debug exit, a probe doorbell). */
    record IoOut(int port, int size, int value) implements VcpuExit {
    }

    /**
     * The guest did something it cannot recover from.
     *
     * @param vector the x86 exception vector when known, -1 when Unicorn hid it
     * @param bytes  the instruction bytes at RIP (up to 15, fewer near the end of RAM)
     */
    record Fault(FaultKind kind, long rip, int vector, byte[] bytes, String detail) implements VcpuExit {
        public Fault {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(detail, "detail");
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        /** By value, bytes included: a fault is part of a saved vCPU state, compared after a restore. */
        @Override
        public boolean equals(Object o) {
            return o instanceof Fault f && kind == f.kind && rip == f.rip && vector == f.vector
                    && Arrays.equals(bytes, f.bytes) && detail.equals(f.detail);
        }

        @Override
        public int hashCode() {
            return Objects.hash(kind, rip, vector, Arrays.hashCode(bytes), detail);
        }

        @Override
        public String toString() {
            return "Fault[" + message() + "]";
        }

        public String message() {
            StringBuilder sb = new StringBuilder(kind.description());
            if (!detail.isEmpty()) {
                sb.append(": ").append(detail);
            }
            sb.append(String.format(" at RIP 0x%x", rip));
            if (vector >= 0) {
                sb.append(" (vector ").append(vector).append(')');
            }
            sb.append(bytes.length == 0 ? "; no guest memory at RIP"
                    : "; bytes at RIP: " + HexFormat.ofDelimiter(" ").formatHex(bytes));
            return sb.toString();
        }
    }
}
