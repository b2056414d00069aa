package dev.tickvm.kvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.memory.GuestMemory;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** kvmclock in the kvm layer: docs/TIME.md sections 6 and 7, with exact bytes and numbers. */
class KvmClockTest {
    private static final long SECOND = 1_000_000_000L;
    private static final long PAGE = 0x5000;
    private static final long EPOCH = SimulatedHost.DEFAULT_BOOT_EPOCH_NANOS;
    private final VirtualClock clock = new VirtualClock();
    private final GuestMemory memory = new GuestMemory(GuestMemory.MIN_SIZE);
    private SimulatedHost host = SimulatedHost.standard("test", clock);

    @AfterEach
    void close() {
        memory.close();
    }

    private KvmVm vm() {
        KvmVm vm = new KvmVm(host, (leaf, subleaf) -> new int[4]);
        vm.attachMemory(memory);
        return vm;
    }

    /** A vCPU created and entered once, as a booted VM's: its creation's requests are serviced. */
    private static KvmVcpu booted(KvmVm vm) {
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        return vcpu;
    }

    @Test
    void aFreshVmHasItsMasterClockOffUntilAVcpuEnters() {
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        // kvm_track_tsc_matching asked vCPU 0 for a master clock update; the first load asked
        // for a global clock update; neither has run.
        assertTrue(vm.masterClockUsable());
        assertFalse(vm.usesMasterClock());
        assertEquals(KvmRequest.MASTERCLOCK_UPDATE.bit | KvmRequest.GLOBAL_CLOCK_UPDATE.bit, vcpu.pendingRequests());
        assertEquals(0, vm.getClock().flags());
        assertFalse(vcpu.hasRun());
        vcpu.beforeEntry();
        assertTrue(vm.usesMasterClock());
        assertEquals(0, vcpu.pendingRequests());
        assertEquals(ClockData.TSC_STABLE | ClockData.REALTIME | ClockData.HOST_TSC, vm.getClock().flags());
        // kvmclock_update_work, scheduled by the global update, runs 100 ms later.
        assertEquals(100_000_000L, vm.clockUpdateWorkDue());
        clock.advance(100_000_000L);
        assertEquals(KvmRequest.CLOCK_UPDATE.bit, vcpu.pendingRequests());
        assertEquals(-1, vm.clockUpdateWorkDue());
    }

    @Test
    void enablingKvmclockPublishesThePageWithTheMasterReference() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        assertTrue(vm.usesMasterClock());
        clock.advance(SECOND);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        // version 2 (odd 1 while writing), tsc_timestamp 0 and system_time 0 from the master
        // reference taken at the first entry, mul 0xaaaaaaaa, shift -1 (3 GHz), flags TSC_STABLE.
        assertEquals("02000000" + "00000000" + "0000000000000000" + "0000000000000000" + "aaaaaaaa" + "ff" + "01" + "0000",
                HexFormat.of().formatHex(memory.read(PAGE, 32)));
        Pvclock page = Pvclock.read(memory, PAGE);
        assertEquals(new Pvclock(2, 0, 0, 0xaaaaaaaa, -1, 1), page);
        // The guest at TSC 3e9 (1 s) reads 999,999,999 ns: mul truncation, as KVM.
        assertEquals(999_999_999L, page.nanosAt(vcpu.readTsc()));
        assertEquals(999_999_999L, vm.getClock().clock());
    }

    @Test
    void everyPublicationBumpsTheVersionByTwoAndLeavesItEven() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        assertEquals(2, memory.readInt(PAGE));
        // A guest TSC_ADJUST write requests a clock update, serviced when the WRMSR returns.
        vcpu.writeMsr(Msr.IA32_TSC_ADJUST, 1L << 30);
        assertEquals(4, memory.readInt(PAGE));
        // A page left odd (the guest scribbled on it): the next version is (old + 1) | 1, then + 1.
        memory.writeInt(PAGE, 7);
        vm.setClock(ClockData.of(0));
        assertEquals(7, memory.readInt(PAGE), "KVM_SET_CLOCK only requests the update");
        vcpu.beforeEntry();
        assertEquals(10, memory.readInt(PAGE));
    }

    @Test
    void aGuestWriteOfTheTscRequestsNoClockUpdateSoKvmclockJumpsWithTheTsc() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        clock.advance(SECOND);
        // The update work 100 ms after the enable republished the page (version 4).
        vcpu.beforeEntry();
        vcpu.writeMsr(Msr.IA32_TSC, vcpu.readTsc() + 3_000_000_000L);
        assertEquals(0, vcpu.pendingRequests());
        Pvclock page = Pvclock.read(memory, PAGE);
        assertEquals(4, page.version(), "not republished");
        // The page still maps TSC 0 to 0 ns, and the TSC is a second ahead: so is kvmclock.
        assertEquals(1_999_999_999L, page.nanosAt(vcpu.readTsc()));
        assertEquals(3_000_000_000L, vcpu.getMsr(Msr.IA32_TSC_ADJUST));
    }

    @Test
    void setTscKhzChangesTheRateButRequestsNoClockUpdate() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        vcpu.setTscKhz(1_500_000);
        assertEquals(0, vcpu.pendingRequests());
        assertEquals(new Pvclock(2, 0, 0, 0xaaaaaaaa, -1, 1), Pvclock.read(memory, PAGE));
    }

    @Test
    void aHostTscWriteThatLeavesTheMasterClockAloneRequestsNothing() {
        KvmVm vm = vm();
        KvmVcpu a = booted(vm);
        KvmVcpu b = booted(vm);
        // b's creation started no generation (a write of 0 matches), and both have entered.
        assertTrue(vm.usesMasterClock());
        b.beforeEntry();
        assertEquals(0, b.pendingRequests());
        // Matching a's offset again: same generation, master clock stays on: no request.
        b.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, a.tscOffset());
        assertEquals(0, b.pendingRequests());
        assertEquals(0, a.pendingRequests());
    }

    @Test
    void disabledOrMisplacedPagesAreNotWritten() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE);
        assertFalse(vcpu.pvclockEnabled());
        assertNull(vcpu.pvclock());
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, (PAGE + 0xff0) | 1);
        assertFalse(vcpu.pvclockEnabled(), "a page that crosses a 4 KiB boundary");
        assertEquals(0, memory.readInt(PAGE + 0xff0));
        assertEquals((PAGE + 0xff0) | 1, vcpu.readMsr(Msr.KVM_SYSTEM_TIME_NEW));
    }

    @Test
    void getClockGivesAllFlagsWithTheMasterClockFromOneReading() {
        KvmVm vm = vm();
        booted(vm);
        clock.advance(SECOND);
        ClockData data = vm.getClock();
        assertEquals(new ClockData(999_999_999L, ClockData.TSC_STABLE | ClockData.REALTIME | ClockData.HOST_TSC,
                EPOCH + SECOND, 3_000_000_000L), data);
    }

    @Test
    void withoutAStableHostTscGetClockIsTheRawClockPlusTheOffsetAndNoFlags() {
        host = host.withTscStable(false);
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        clock.advance(SECOND);
        assertFalse(vm.usesMasterClock());
        // The raw clock is the TSC through the clocksource's mult/shift (5,592,405 >> 24 at
        // 3,000,000 kHz): 3e9 cycles are 999,999,940 ns.
        assertEquals(new ClockData(999_999_940L, 0, 0, 0), vm.getClock());
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        // Per-vCPU reference taken now: TSC 3e9 at 1 s, no TSC_STABLE flag.
        assertEquals(new Pvclock(2, 3_000_000_000L, 999_999_940L, 0xaaaaaaaa, -1, 0), Pvclock.read(memory, PAGE));
    }

    @Test
    void onAnUnstableHostEveryLoadRebasesTheTscAndTheNextEntryCatchesItUp() {
        host = host.withTscStable(false);
        KvmVm vm = vm();
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        vcpu.afterExit();
        assertEquals(0, vcpu.readTsc());
        clock.advance(SECOND);
        // KVM_GET_MSRS loads the vCPU: the TSC resumes where the guest last saw it.
        assertEquals(0, vcpu.getMsr(Msr.IA32_TSC));
        assertEquals(KvmRequest.GLOBAL_CLOCK_UPDATE.bit, vcpu.pendingRequests() & KvmRequest.GLOBAL_CLOCK_UPDATE.bit);
        // The next entry catches up to the generation's rate: compute_guest_tsc(raw 999,999,940
        // ns) = 2,999,999,820 cycles.
        vcpu.beforeEntry();
        assertEquals(2_999_999_820L, vcpu.readTsc());
        assertTrue(vcpu.tscCatchup());
    }

    @Test
    void setClockSetsTheOffsetFromTheMasterReferenceAndRequestsUpdates() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        clock.advance(SECOND);
        vm.setClock(ClockData.of(180 * SECOND));
        // The new master reference is at raw 999,999,940 ns (1 s of true time on this host).
        assertEquals(180 * SECOND - 999_999_940L, vm.kvmclockOffset());
        assertEquals(KvmRequest.CLOCK_UPDATE.bit, vcpu.pendingRequests());
        assertEquals(2, Pvclock.read(memory, PAGE).version());
        vcpu.beforeEntry();
        assertEquals(new Pvclock(4, 3_000_000_000L, 180 * SECOND, 0xaaaaaaaa, -1, 1), Pvclock.read(memory, PAGE));
        assertEquals(180 * SECOND, vm.getClock().clock());
        clock.advance(SECOND);
        assertEquals(180 * SECOND + 999_999_999L, vm.getClock().clock());
    }

    @Test
    void setClockWithRealtimeAddsTheRealtimeThatPassedButNeverStepsBack() {
        KvmVm vm = vm();
        vm.createVcpu();
        clock.advance(10 * SECOND);
        long now = EPOCH + 10 * SECOND;
        // No vCPU has entered, but KVM_SET_CLOCK takes its own master reference.
        vm.setClock(new ClockData(50 * SECOND, ClockData.REALTIME, now - 5 * SECOND, 0));
        assertTrue(vm.usesMasterClock());
        assertEquals(55 * SECOND, vm.getClock().clock());
        vm.setClock(new ClockData(50 * SECOND, ClockData.REALTIME, now + 5 * SECOND, 0));
        assertEquals(50 * SECOND, vm.getClock().clock(), "a realtime in the future does not step back");
    }

    @Test
    void setClockRejectsUnknownFlags() {
        KvmVm vm = vm();
        vm.createVcpu();
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, () -> vm.setClock(new ClockData(0, 1, 0, 0))).errno());
    }

    @Test
    void wallClockHoldsTheRealtimeOfKvmclockZeroUnderTheVersionProtocol() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        clock.advance(2_500_000_000L);
        vcpu.writeMsr(Msr.KVM_WALL_CLOCK_NEW, 0x6000);
        // realtime EPOCH + 2.5 s minus kvmclock 2,499,999,999 (master clock truncation): EPOCH + 1 ns.
        long sec = EPOCH / SECOND;
        byte[] expected = new byte[12];
        java.nio.ByteBuffer.wrap(expected).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(2).putInt((int) sec).putInt(1);
        assertArrayEquals(expected, memory.read(0x6000, 12));
        assertEquals(0x6000, vcpu.readMsr(Msr.KVM_WALL_CLOCK_NEW));
        // A host-initiated write publishes too (kvm_set_msr_common has no host_initiated test).
        vcpu.setMsr(Msr.KVM_WALL_CLOCK_NEW, 0x7000);
        assertArrayEquals(expected, memory.read(0x7000, 12));
        // An address of 0 writes nothing.
        vcpu.setMsr(Msr.KVM_WALL_CLOCK_NEW, 0);
        assertEquals(0, memory.readInt(0));
    }

    @Test
    void theBootVcpuOnTheLegacyMsrTurnsTheMasterClockOff() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME, PAGE | 1);
        assertFalse(vm.usesMasterClock());
        assertEquals(0, Pvclock.read(memory, PAGE).flags());
        // kvm_track_tsc_matching ignores the legacy MSR: every host TSC write now asks for a
        // master clock update, which pvclock_update_vm_gtod_copy turns down again.
        vcpu.setMsr(Msr.IA32_TSC, 0);
        assertEquals(KvmRequest.MASTERCLOCK_UPDATE.bit, vcpu.pendingRequests() & KvmRequest.MASTERCLOCK_UPDATE.bit);
        vcpu.beforeEntry();
        assertFalse(vm.usesMasterClock());
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        assertTrue(vm.usesMasterClock());
        assertEquals(Pvclock.TSC_STABLE_BIT, Pvclock.read(memory, PAGE).flags());
    }

    @Test
    void aNewTscGenerationTurnsTheMasterClockOffAtTheWritersNextEntry() {
        KvmVm vm = vm();
        KvmVcpu a = booted(vm);
        KvmVcpu b = booted(vm);
        a.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        b.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, (PAGE + 32) | 1);
        assertTrue(vm.usesMasterClock());
        clock.advance(SECOND);
        b.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, 42);
        assertFalse(vm.masterClockUsable());
        assertTrue(vm.usesMasterClock(), "only requested on the writer");
        // Both also have the CLOCK_UPDATE of the update work that ran 100 ms after the enables.
        assertEquals(KvmRequest.MASTERCLOCK_UPDATE.bit | KvmRequest.CLOCK_UPDATE.bit, b.pendingRequests());
        assertEquals(KvmRequest.CLOCK_UPDATE.bit, a.pendingRequests());
        b.beforeEntry();
        assertFalse(vm.usesMasterClock());
        assertEquals(0, Pvclock.read(memory, PAGE + 32).flags());
        assertEquals(Pvclock.TSC_STABLE_BIT, Pvclock.read(memory, PAGE).flags(), "a has not entered yet");
        a.beforeEntry();
        assertEquals(0, Pvclock.read(memory, PAGE).flags());
        a.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, 42);
        assertFalse(vm.usesMasterClock());
        a.beforeEntry();
        assertTrue(vm.usesMasterClock(), "both offsets equal again: matched");
        assertEquals(Pvclock.TSC_STABLE_BIT, Pvclock.read(memory, PAGE).flags());
    }

    @Test
    void aGlobalRequestRefreshesEveryPageTheWritersToo100MillisecondsLater() {
        KvmVm vm = vm();
        KvmVcpu a = booted(vm);
        KvmVcpu b = booted(vm);
        clock.advance(SECOND);
        b.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, (PAGE + 32) | 1);
        assertEquals(2, memory.readInt(PAGE + 32));
        clock.advance(99_999_999);
        b.beforeEntry();
        a.beforeEntry();
        assertEquals(2, memory.readInt(PAGE + 32));
        clock.advance(1);
        assertEquals(KvmRequest.CLOCK_UPDATE.bit, a.pendingRequests());
        b.beforeEntry();
        assertEquals(4, memory.readInt(PAGE + 32), "kvmclock_update_work includes the writer");
    }

    @Test
    void thePeriodicSyncRequestsAnUpdateEveryFiveMinutes() {
        KvmVm vm = vm();
        KvmVcpu vcpu = booted(vm);
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        clock.advance(SECOND);
        vcpu.beforeEntry();
        assertEquals(4, memory.readInt(PAGE), "the update work after the enable");
        assertEquals(300 * SECOND, vm.clockSyncWorkDue());
        clock.advance(299 * SECOND - 1);
        assertEquals(0, vcpu.pendingRequests());
        clock.advance(1);
        assertEquals(KvmRequest.CLOCK_UPDATE.bit, vcpu.pendingRequests());
        assertEquals(600 * SECOND, vm.clockSyncWorkDue());
        // Missed periods collapse: one request, the next due time after now.
        clock.advance(1000 * SECOND);
        assertEquals(1500 * SECOND, vm.clockSyncWorkDue());
        assertEquals(KvmRequest.CLOCK_UPDATE.bit, vcpu.pendingRequests());
    }

    @Test
    void kvmCompatScalesFromWholeKilohertzAndExactFromTheTrueFrequency() {
        KvmVm vm = vm();
        vm.setTscKhz(2_500_000);
        KvmVcpu vcpu = vm.createVcpu();
        // The guest TSC really runs at 3e9 * 0xD55555555555 / 2^48 = 2,499,999,999.99 Hz.
        assertEquals(2_499_999_000L, vcpu.pvclockTscHz());
        vm.setPvclockMode(PvclockMode.EXACT);
        assertEquals(2_499_999_999L, vcpu.pvclockTscHz());
    }

    @Test
    void kvmCompatDriftsAgainstTrueTimeAndExactDoesNot() {
        // A 1.5 GHz guest on a host whose TSC truly runs at 2,999,999,500 Hz (tsc_khz 2,999,999).
        host = host.withTscHz(2_999_999_500L);
        assertEquals(833, driftNanosPerSecond(PvclockMode.KVM_COMPAT));
        // Exact leaves only the pvclock format's own truncations (32-bit mul, whole ns): -1 ns.
        assertEquals(-1, driftNanosPerSecond(PvclockMode.EXACT));
    }

    /** kvmclock read through the pvclock page after 1 s, minus 1 s, in a fresh VM. */
    private long driftNanosPerSecond(PvclockMode mode) {
        VirtualClock own = new VirtualClock();
        SimulatedHost h = host.withBootEpoch(EPOCH).onClock(own);
        KvmVm vm = new KvmVm(h, (leaf, subleaf) -> new int[4]);
        vm.attachMemory(memory);
        vm.setTscKhz(1_500_000);
        vm.setPvclockMode(mode);
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, PAGE | 1);
        Pvclock page = Pvclock.read(memory, PAGE);
        long start = page.nanosAt(vcpu.readTsc());
        own.advance(SECOND);
        return page.nanosAt(vcpu.readTsc()) - start - SECOND;
    }
}
