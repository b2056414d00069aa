package dev.tickvm.lab;

import dev.tickvm.memory.GuestMemory;

/**
 * What a vCPU's watch loop has found so far (guest-images/src/main/guest/watch.S), as it keeps
 * it in its watch record in guest RAM: the clockwatch image keeps one per vCPU, and so does the
 * probe's WATCH command. A step is between two consecutive readings of one clock, in ns: TSC
 * steps are turned into ns as {@code floor(cycles * 1,000,000 / tscKhz)}. A jump is a forward
 * step larger than the threshold; a back is any backward step.
 *
 * @param vcpu            the vCPU whose record this is
 * @param state           whether the loop has started, runs, or has ended
 * @param tscKhz          the TSC frequency the guest converts with (CPUID 0x40000010 or the
 *                        clockwatch parameter)
 * @param thresholdNs     forward steps above this are jumps
 * @param periodNs        TSC time between stats lines (0: none; the probe prints nothing)
 * @param cycles          the loop ends after this many TSC cycles (0: only when stopped)
 * @param kvmclockWatched whether kvmclock is read in each round too
 * @param rounds          rounds of the loop (each reads every watched clock once)
 * @param startTsc        the first TSC reading
 * @param tsc             the TSC's findings (readings in cycles)
 * @param kvmclock        kvmclock's findings (readings in ns; all 0 when not watched)
 * @param kvmclockRetries kvmclock reads that met an odd or changed version and were retried
 * @param kvmclockClamps  kvmclock reads clamped to the global last value
 */
public record WatchFindings(int vcpu, State state, long tscKhz, long thresholdNs, long periodNs, long cycles,
        boolean kvmclockWatched, long rounds, long startTsc, Clock tsc, Clock kvmclock, long kvmclockRetries,
        long kvmclockClamps) {

    /** vCPU n's record is at {@code BASE + n * SIZE} (lib.inc, WATCH_BASE and WATCH_SIZE). */
    public static final long BASE = 0x4000;
    public static final long SIZE = 0x100;

    /** W_STATE: 0 before the loop has its first readings, 1 while it runs, 2 once it ended. */
    public enum State {
        NOT_STARTED, RUNNING, ENDED
    }

    /**
     * One clock's findings (lib.inc, WC_*).
     *
     * @param reads       readings, the first one included
     * @param jumps       forward steps above the threshold
     * @param backs       backward steps
     * @param maxStepNs   the largest forward step
     * @param maxBackNs   the largest backward step
     * @param last        the last reading (TSC: cycles, kvmclock: ns)
     * @param lastJumpNs  the last jump (0 if none)
     * @param lastJumpTsc the TSC at the reading that ended the last jump (0 if none)
     */
    public record Clock(long reads, long jumps, long backs, long maxStepNs, long maxBackNs, long last,
            long lastJumpNs, long lastJumpTsc) {

        static Clock read(GuestMemory memory, long at) {
            return new Clock(memory.readLong(at), memory.readLong(at + 0x08), memory.readLong(at + 0x10),
                    memory.readLong(at + 0x18), memory.readLong(at + 0x20), memory.readLong(at + 0x28),
                    memory.readLong(at + 0x30), memory.readLong(at + 0x38));
        }
    }

    /** Where vCPU {@code vcpu}'s watch record is. */
    public static long address(int vcpu) {
        return BASE + vcpu * SIZE;
    }

    /** Reads vCPU {@code vcpu}'s watch record as it is now. */
    public static WatchFindings read(GuestMemory memory, int vcpu) {
        long at = address(vcpu);
        long state = memory.readLong(at + 0x40);
        if (state < 0 || state > 2) {
            throw new IllegalStateException("watch record of vCPU " + vcpu + " at 0x" + Long.toHexString(at)
                    + " has state " + state + ": not a watch record");
        }
        return new WatchFindings(vcpu, State.values()[(int) state], memory.readLong(at + 0x08),
                memory.readLong(at + 0x10), memory.readLong(at + 0x18), memory.readLong(at + 0x28),
                memory.readLong(at + 0x20) != 0, memory.readLong(at + 0x48), memory.readLong(at + 0x50),
                Clock.read(memory, at + 0x60), Clock.read(memory, at + 0xa0), memory.readLong(at + 0xe0),
                memory.readLong(at + 0xe8));
    }

    /** Jumps of both clocks. */
    public long jumps() {
        return tsc.jumps + kvmclock.jumps;
    }

    /** Backward steps of both clocks. */
    public long backs() {
        return tsc.backs + kvmclock.backs;
    }
}
