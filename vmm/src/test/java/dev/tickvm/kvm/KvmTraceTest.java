package dev.tickvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.trace.TraceFilter;
import dev.tickvm.trace.Tracer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kvm layer's trace events (docs/TRACE.md), line for line. */
class KvmTraceTest {
    private static final long SECOND = 1_000_000_000L;
    private final VirtualClock clock = new VirtualClock();
    private final GuestMemory memory = new GuestMemory(GuestMemory.MIN_SIZE);
    private final SimulatedHost host = SimulatedHost.standard("test", clock);
    private final List<String> lines = new ArrayList<>();

    @AfterEach
    void close() {
        memory.close();
    }

    private KvmVm vm(String filter) {
        KvmVm vm = new KvmVm(host, (leaf, subleaf) -> new int[4], Tracer.lines(TraceFilter.parse(filter), lines::add));
        vm.attachMemory(memory);
        return vm;
    }

    @Test
    void creatingAndEnteringAVcpu() {
        KvmVm vm = vm("*");
        clock.advance(SECOND);
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        assertEquals(List.of(
                "       kvm [---]     0.000000000: kvm_update_master_clock: use_master_clock=0 host_clocksource_tsc=1 vcpus_matched=0 true=0.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request: vcpu=0 req=GLOBAL_CLOCK_UPDATE by=kvm_arch_vcpu_load true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_write_tsc_offset: vcpu=0 prev=0 next=-3000000000 true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_track_tsc: vcpu=0 nr_matched=0 online=1 use_master_clock=0 host_clocksource_tsc=1 true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request: vcpu=0 req=MASTERCLOCK_UPDATE by=kvm_track_tsc_matching true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request_serviced: vcpu=0 req=MASTERCLOCK_UPDATE true=1.000000000",
                "       kvm [---]     1.000000000: kvm_update_master_clock: use_master_clock=1 host_clocksource_tsc=1 vcpus_matched=1 true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request: vcpu=0 req=CLOCK_UPDATE by=kvm_update_masterclock true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request_serviced: vcpu=0 req=GLOBAL_CLOCK_UPDATE true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request: vcpu=0 req=CLOCK_UPDATE by=kvm_gen_kvmclock_update true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_request_serviced: vcpu=0 req=CLOCK_UPDATE true=1.000000000"),
                lines);
    }

    @Test
    void hostAndGuestTscWritesMoveTheOffset() {
        KvmVm vm = vm("kvm_write_tsc_offset,kvm_msr");
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        clock.advance(2 * SECOND);
        lines.clear();
        vcpu.setMsr(Msr.IA32_TSC, 180 * 3_000_000_000L);
        vcpu.writeMsr(Msr.IA32_TSC_ADJUST, 1000);
        assertEquals(List.of(
                "    vcpu-0 [000]     2.000000000: kvm_msr: vcpu=0 write host msr=0x10 name=IA32_TSC value=0x7dba821800 true=2.000000000",
                "    vcpu-0 [000]     2.000000000: kvm_write_tsc_offset: vcpu=0 prev=0 next=534000000000 true=2.000000000",
                "    vcpu-0 [000]     2.000000000: kvm_write_tsc_offset: vcpu=0 prev=534000000000 next=534000001000 true=2.000000000",
                "    vcpu-0 [000]     2.000000000: kvm_msr: vcpu=0 write guest msr=0x3b name=IA32_TSC_ADJUST value=0x3e8 true=2.000000000"),
                lines);
    }

    @Test
    void setClockAndThePvclockItRepublishes() {
        KvmVm vm = vm("kvm_set_clock,kvm_get_clock,kvm_pvclock_update");
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, 0x5001);
        clock.advance(SECOND);
        vm.setClock(new ClockData(180 * SECOND, 0, 0, 0));
        vcpu.beforeEntry();
        vm.getClock();
        assertEquals(List.of(
                "    vcpu-0 [000]     0.000000000: kvm_pvclock_update: vcpu=0 version=2 tsc_timestamp=0 system_time=0 mul=2863311530 shift=-1 flags=0x1 true=0.000000000",
                "       kvm [---]     1.000000000: kvm_set_clock: clock=180000000000 flags=0x0 realtime=0 result=180000000000 true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_pvclock_update: vcpu=0 version=4 tsc_timestamp=3000000000 system_time=180000000000 mul=2863311530 shift=-1 flags=0x1 true=1.000000000",
                "       kvm [---]     1.000000000: kvm_get_clock: clock=180000000000 flags=0xe realtime=1767225601000000000 host_tsc=3000000000 true=1.000000000"),
                lines);
    }

    @Test
    void theTscOffsetAttributeAndAnUnstableHostsRebaseAndCatchUp() {
        KvmVm vm = new KvmVm(host.withTscStable(false), (leaf, subleaf) -> new int[4],
                Tracer.lines(TraceFilter.parse("kvm_write_tsc_offset,kvm_track_tsc"), lines::add));
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        vcpu.afterExit();
        lines.clear();
        clock.advance(SECOND);
        vcpu.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, -1000);
        vcpu.afterExit();
        clock.advance(SECOND);
        vcpu.beforeEntry();
        assertEquals(List.of(
                // The attribute's ioctl loads the vCPU: the rebase to last_guest_tsc (0, at t = 0).
                "    vcpu-0 [000]     1.000000000: kvm_write_tsc_offset: vcpu=0 prev=0 next=-3000000000 true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_write_tsc_offset: vcpu=0 prev=-3000000000 next=-1000 true=1.000000000",
                "    vcpu-0 [000]     1.000000000: kvm_track_tsc: vcpu=0 nr_matched=0 online=1 use_master_clock=0 host_clocksource_tsc=0 true=1.000000000",
                // The next entry: the rebase puts the TSC back at the write's 2,999,999,000 ...
                "    vcpu-0 [000]     2.000000000: kvm_write_tsc_offset: vcpu=0 prev=-1000 next=-3000001000 true=2.000000000",
                // ... and the time update catches it up by the raw clock's 999,999,940 ns since.
                "    vcpu-0 [000]     2.000000000: kvm_write_tsc_offset: vcpu=0 prev=-3000001000 next=-1180 true=2.000000000"),
                lines);
    }

    @Test
    void tracingOffRecordsNothing() {
        KvmVm vm = new KvmVm(host, (leaf, subleaf) -> new int[4]);
        assertEquals(Tracer.OFF, vm.tracer());
        vm.setTracer(Tracer.lines(TraceFilter.ALL, lines::add));
        vm.setClock(new ClockData(5, 0, 0, 0));
        assertEquals(List.of(
                "       kvm [---]     0.000000000: kvm_update_master_clock: use_master_clock=0 host_clocksource_tsc=1 vcpus_matched=0 true=0.000000000",
                "       kvm [---]     0.000000000: kvm_set_clock: clock=5 flags=0x0 realtime=0 result=5 true=0.000000000"),
                lines);
        vm.setTracer(Tracer.OFF);
        vm.createVcpu().beforeEntry();
        assertEquals(2, lines.size());
    }

    @Test
    void filtersTakeNamesAndPrefixes() {
        TraceFilter f = TraceFilter.parse("kvm_pvclock_update, tickvm_*");
        assertEquals(true, f.accepts("kvm_pvclock_update"));
        assertEquals(true, f.accepts("tickvm_trap"));
        assertEquals(false, f.accepts("kvm_set_clock"));
        assertEquals(true, TraceFilter.parse("").accepts("kvm_msr"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> TraceFilter.parse("kvm_nope"));
    }
}
