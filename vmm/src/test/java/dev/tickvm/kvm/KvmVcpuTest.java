package dev.tickvm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.cpu.UnknownMsrException;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import org.junit.jupiter.api.Test;

/** KVM's per-vCPU TSC semantics, docs/TIME.md sections 2, 4, 5 and 7, with exact numbers. */
class KvmVcpuTest {
    private static final long SECOND = 1_000_000_000L;
    private final VirtualClock clock = new VirtualClock();
    private SimulatedHost host = SimulatedHost.standard("test", clock);

    private KvmVm vm() {
        return new KvmVm(host, (leaf, subleaf) -> new int[] {0x11, 0x22, 0x33, 0x44});
    }

    @Test
    void guestTscIsHostTscPlusOffsetAtTheHostFrequency() {
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        clock.advance(SECOND);
        assertEquals(3_000_000_000L, vcpu.readTsc());
        assertEquals(3_000_000_000L, vcpu.getMsr(Msr.IA32_TSC));
        assertEquals(TscMath.defaultRatio(48), vcpu.tscRatio());
    }

    @Test
    void creatingVcpusJoinsThemToOneGenerationAndEnablesTheMasterClock() {
        KvmVm vm = vm();
        KvmVcpu first = vm.createVcpu();
        assertEquals(1, vm.tscGeneration());
        assertEquals(0, vm.vcpusMatched());
        assertTrue(vm.masterClockUsable());
        clock.advance(5 * SECOND);
        KvmVcpu second = vm.createVcpu();
        assertEquals(1, vm.tscGeneration());
        assertEquals(1, vm.vcpusMatched());
        assertEquals(first.tscOffset(), second.tscOffset());
        assertEquals(first.readTsc(), second.readTsc());
        assertTrue(vm.masterClockUsable());
    }

    @Test
    void unstableHostTscNeverGivesAMasterClock() {
        host = host.withTscStable(false);
        KvmVm vm = vm();
        vm.createVcpu();
        assertFalse(vm.masterClockUsable());
    }

    @Test
    void hostTscWriteStartsANewGenerationAndAWriteWithinOneSecondJoinsIt() {
        KvmVm vm = vm();
        KvmVcpu a = vm.createVcpu();
        KvmVcpu b = vm.createVcpu();
        clock.advance(SECOND);
        a.setMsr(Msr.IA32_TSC, 100_000_000_000L);
        assertEquals(2, vm.tscGeneration());
        assertEquals(0, vm.vcpusMatched());
        assertFalse(vm.masterClockUsable());
        assertEquals(100_000_000_000L - 3_000_000_000L, a.tscOffset());
        clock.advance(1_000_000);
        // 1 ms later, 500 ms of cycles off the expected value: still "meant to be in sync".
        b.setMsr(Msr.IA32_TSC, 100_000_000_000L + 3_000_000 + 1_500_000_000L);
        assertEquals(2, vm.tscGeneration());
        assertEquals(1, vm.vcpusMatched());
        assertEquals(a.tscOffset(), b.tscOffset(), "a stable host TSC joins the generation's exact offset");
        assertEquals(a.readTsc(), b.readTsc());
        assertTrue(vm.masterClockUsable());
    }

    @Test
    void theOneSecondWindowIsOpenAtBothEdges() {
        long hz = 3_000_000_000L;
        long base = 50_000_000_000L;
        assertTrue(joins(base + hz - 1));
        assertFalse(joins(base + hz));
        assertTrue(joins(base - hz + 1));
        assertFalse(joins(base - hz));
    }

    /** A host write of {@code base}, then at the same instant one of {@code value} on another vCPU. */
    private boolean joins(long value) {
        KvmVm vm = vm();
        KvmVcpu a = vm.createVcpu();
        KvmVcpu b = vm.createVcpu();
        a.setMsr(Msr.IA32_TSC, 50_000_000_000L);
        long generation = vm.tscGeneration();
        b.setMsr(Msr.IA32_TSC, value);
        return vm.tscGeneration() == generation && vm.vcpusMatched() == 1;
    }

    @Test
    void onAnUnstableHostAMatchedWriteAddsTheElapsedCycles() {
        host = host.withTscStable(false);
        KvmVm vm = vm();
        KvmVcpu a = vm.createVcpu();
        KvmVcpu b = vm.createVcpu();
        a.setMsr(Msr.IA32_TSC, 10_000_000_000L);
        clock.advance(100_000_000);
        b.setMsr(Msr.IA32_TSC, 10_000_000_000L);
        assertEquals(1, vm.vcpusMatched());
        // data += nsec_to_cycles(elapsed), with elapsed in the kvmclock base (the raw clock):
        // 100 ms of true time is 99,999,994 raw ns on a 3 GHz host (clocksource mult 5,592,405,
        // shift 24), which is 299,999,982 cycles; offset = data - host TSC (300,000,000).
        assertEquals(10_299_999_982L - 300_000_000L, b.tscOffset());
        assertEquals(10_299_999_982L, b.readTsc());
    }

    @Test
    void writingZeroFromTheHostAlwaysSynchronizes() {
        KvmVm vm = vm();
        KvmVcpu a = vm.createVcpu();
        a.setMsr(Msr.IA32_TSC, 900_000_000_000L);
        long generation = vm.tscGeneration();
        clock.advance(60 * SECOND);
        KvmVcpu b = vm.createVcpu();
        assertEquals(generation, vm.tscGeneration());
        assertEquals(a.tscOffset(), b.tscOffset());
    }

    @Test
    void guestTscWriteMovesTheOffsetAndTscAdjustByTheSameDelta() {
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        clock.advance(SECOND);
        vcpu.writeMsr(Msr.IA32_TSC, 3_000_000_000L + (1L << 30));
        assertEquals(1L << 30, vcpu.tscOffset());
        assertEquals(1L << 30, vcpu.readMsr(Msr.IA32_TSC_ADJUST));
        assertEquals(3_000_000_000L + (1L << 30), vcpu.readTsc());
    }

    @Test
    void guestTscAdjustWriteMovesTheTscByTheChange() {
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.writeMsr(Msr.IA32_TSC_ADJUST, 2L << 30);
        vcpu.writeMsr(Msr.IA32_TSC_ADJUST, 3L << 30);
        assertEquals(3L << 30, vcpu.tscOffset());
        assertEquals(3L << 30, vcpu.getMsr(Msr.IA32_TSC_ADJUST));
    }

    @Test
    void hostWritesLeaveTheOtherMsrAlone() {
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.writeMsr(Msr.IA32_TSC_ADJUST, 1L << 30);
        vcpu.setMsr(Msr.IA32_TSC, 5L << 30);
        assertEquals(1L << 30, vcpu.getMsr(Msr.IA32_TSC_ADJUST), "host TSC write keeps TSC_ADJUST");
        vcpu.setMsr(Msr.IA32_TSC_ADJUST, 7L << 30);
        assertEquals(5L << 30, vcpu.getMsr(Msr.IA32_TSC), "host TSC_ADJUST write keeps the TSC");
        assertEquals(7L << 30, vcpu.getMsr(Msr.IA32_TSC_ADJUST));
    }

    @Test
    void tscAuxIsStoredAndGuestWritesOfReservedBitsFault() {
        KvmVcpu vcpu = vm().createVcpu();
        vcpu.writeMsr(Msr.TSC_AUX, 0xdead_beefL);
        assertEquals(0xdead_beefL, vcpu.readTscAux());
        assertThrows(UnknownMsrException.class, () -> vcpu.writeMsr(Msr.TSC_AUX, 1L << 32));
        vcpu.setMsr(Msr.TSC_AUX, 5);
        assertEquals(5, vcpu.getMsr(Msr.TSC_AUX));
    }

    @Test
    void unknownMsrsFaultTheGuestAndFailHostCallsWithEinval() {
        KvmVcpu vcpu = vm().createVcpu();
        UnknownMsrException fault = assertThrows(UnknownMsrException.class, () -> vcpu.readMsr(0x1234));
        assertEquals(0x1234, fault.msr());
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.getMsr(0x1234)).errno());
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.setMsr(0x1234, 0)).errno());
    }

    @Test
    void scalingToTwoAndAHalfGigahertzOnAThreeGigahertzHost() {
        KvmVm vm = vm();
        vm.setTscKhz(2_500_000);
        KvmVcpu vcpu = vm.createVcpu();
        assertEquals(2_500_000, vcpu.getTscKhz());
        assertEquals(0xD55555555555L, vcpu.tscRatio());
        clock.advance(SECOND);
        assertEquals(2_499_999_999L, vcpu.readTsc());
    }

    @Test
    void within250PpmNoScalingIsApplied() {
        KvmVcpu vcpu = vm().createVcpu();
        vcpu.setTscKhz(3_000_750);
        assertEquals(3_000_750, vcpu.getTscKhz());
        assertEquals(TscMath.defaultRatio(48), vcpu.tscRatio());
        vcpu.setTscKhz(3_000_751);
        assertEquals(TscMath.ratio(3_000_751, 3_000_000, 48), vcpu.tscRatio());
    }

    @Test
    void impossibleRatiosAreRejectedWithEinval() {
        host = host.withFracBits(32);
        KvmVcpu vcpu = vm().createVcpu();
        // 256x the host frequency needs a ratio of 2^40 > SVM's 0xff_ffffffff.
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.setTscKhz(768_000_000L)).errno());
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.setTscKhz(0xffff_ffffL)).errno());
        assertEquals(3_000_000, vcpu.getTscKhz(), "a rejected frequency changes nothing");
    }

    @Test
    void vmTscFrequencyCanOnlyBeSetBeforeVcpusExist() {
        KvmVm vm = vm();
        vm.setTscKhz(0);
        assertEquals(3_000_000, vm.getTscKhz());
        vm.createVcpu();
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vm.setTscKhz(2_000_000)).errno());
    }

    @Test
    void tscOffsetAttributeReadsAndWritesTheOffset() {
        KvmVm vm = vm();
        KvmVcpu a = vm.createVcpu();
        KvmVcpu b = vm.createVcpu();
        a.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, 180_000_000_000L);
        assertEquals(180_000_000_000L, a.getAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET));
        assertEquals(0, vm.vcpusMatched());
        long generation = vm.tscGeneration();
        b.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, 180_000_000_000L);
        assertEquals(generation, vm.tscGeneration(), "same kHz and offset as the last write: matched");
        assertEquals(1, vm.vcpusMatched());
        clock.advance(SECOND);
        assertEquals(183_000_000_000L, b.readTsc());
    }

    @Test
    void otherAttributesAreEnxio() {
        KvmVcpu vcpu = vm().createVcpu();
        assertEquals(Errno.ENXIO, assertThrows(KvmException.class,
                () -> vcpu.getAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_VALUE)).errno());
        assertEquals(Errno.ENXIO, assertThrows(KvmException.class, () -> vcpu.setAttr(1, 0, 0)).errno());
    }

    @Test
    void cpuidShowsKvmSignatureTimingLeafAndTscFeatureBits() {
        KvmVm vm = vm();
        vm.setTscKhz(2_345_678);
        KvmVcpu vcpu = vm.createVcpu();
        assertArrayEquals(new int[] {0x40000010, 0x4b4d564b, 0x564b4d56, 0x4d}, vcpu.cpuid(0x40000000, 0));
        assertArrayEquals(new int[] {2_345_678, 1_000_000, 0, 0}, vcpu.cpuid(0x40000010, 0));
        assertArrayEquals(new int[] {0x11, 0x22, 0x33 | 1 << 31, 0x44}, vcpu.cpuid(1, 0));
        assertArrayEquals(new int[] {0x11, 0x22 | 1 << 1, 0x33, 0x44}, vcpu.cpuid(7, 0));
        assertArrayEquals(new int[] {0x11, 0x22, 0x33, 0x44 | 1 << 27}, vcpu.cpuid(0x80000001, 0));
        assertArrayEquals(new int[] {0x11, 0x22, 0x33, 0x44 | 1 << 8}, vcpu.cpuid(0x80000007, 0));
        assertNull(vcpu.cpuid(0, 0), "other leaves are the CPU model's");
    }

    @Test
    void theSynchronizationWindowComparesUnsignedAsLinuxDoes() {
        KvmVm vm = vm();
        KvmVcpu a = vm.createVcpu();
        KvmVcpu b = vm.createVcpu();
        a.setMsr(Msr.IA32_TSC, 1);
        long generation = vm.tscGeneration();
        // -1000 is 2^64 - 1000: nowhere near 1 in u64, so a new generation.
        b.setMsr(Msr.IA32_TSC, -1000);
        assertEquals(generation + 1, vm.tscGeneration());
        assertEquals(-1000L, b.readTsc());
    }

    @Test
    void hostWritesOfTscAuxReservedBitsAreRejected() {
        KvmVcpu vcpu = vm().createVcpu();
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.setMsr(Msr.TSC_AUX, 0x1_0000_0007L)).errno());
        assertEquals(0, vcpu.getMsr(Msr.TSC_AUX));
    }

    @Test
    void theVmRejectsAFrequencyTheHostCannotScaleTo() {
        host = host.withFracBits(32);
        KvmVm vm = vm();
        // 0xff_ffffffff * 3,000,000 >> 32 = 767,999,999 kHz on a 3 GHz SVM host.
        assertEquals(767_999_999L, vm.maxGuestTscKhz());
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vm.setTscKhz(800_000_000L)).errno());
        vm.setTscKhz(767_999_998L);
        assertEquals(767_999_998L, vm.createVcpu().getTscKhz());
    }

    @Test
    void setTscKhzTakesAU32AndMaxGuestTscKhzIsCappedAtASignedInt() {
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        assertEquals(0x7fff_ffffL, vm.maxGuestTscKhz());
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.setTscKhz(0x7fff_ffffL)).errno());
        vcpu.setTscKhz(0x1_0000_0000L + 2_500_000);
        assertEquals(2_500_000, vcpu.getTscKhz());
        vcpu.setTscKhz(1L << 32);
        assertEquals(3_000_000, vcpu.getTscKhz(), "truncated to 0: the host's");
    }

    @Test
    void withoutTscScalingAFasterGuestIsCaughtUpAndASlowerOneRefusedAfterItsKhzWasTaken() {
        host = host.withTscScaling(false);
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vcpu.setTscKhz(2_000_000)).errno());
        assertEquals(2_000_000, vcpu.getTscKhz());
        assertEquals(TscMath.defaultRatio(48), vcpu.tscRatio());
        vcpu.setTscKhz(6_000_000);
        assertTrue(vcpu.tscAlwaysCatchup());
        assertEquals(3_000_000_000L, vcpu.pvclockTscHz());
        vcpu.setMsr(Msr.IA32_TSC, 0);
        clock.advance(SECOND);
        assertEquals(3_000_000_000L, vcpu.readTsc(), "the host's rate between entries");
        vcpu.afterExit();
        vcpu.beforeEntry();
        // compute_guest_tsc: 6 cycles per raw ns; 1 s of true time is 999,999,940 raw ns here.
        assertEquals(5_999_999_640L, vcpu.readTsc());
    }

    @Test
    void tscAuxHighBitsAreRefusedForIntelAndClearedForAmd() {
        KvmVm intel = vm();
        KvmVcpu a = intel.createVcpu();
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> a.setMsr(Msr.TSC_AUX, 1L << 32 | 5)).errno());
        assertThrows(UnknownMsrException.class, () -> a.writeMsr(Msr.TSC_AUX, 1L << 32 | 5));
        host = host.withFracBits(32);
        KvmVm amd = vm();
        KvmVcpu b = amd.createVcpu();
        b.setMsr(Msr.TSC_AUX, 1L << 32 | 5);
        assertEquals(5, b.getMsr(Msr.TSC_AUX));
        b.writeMsr(Msr.TSC_AUX, -1L);
        assertEquals(0xffff_ffffL, b.readTscAux());
    }
}
