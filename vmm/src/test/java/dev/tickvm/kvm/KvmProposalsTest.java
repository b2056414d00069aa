package dev.tickvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import org.junit.jupiter.api.Test;

/**
 * The proposed interfaces (docs/TIME.md section 7): KVM_VCPU_TSC_VALUE, KVM_VCPU_TSC_SCALE and
 * KVM_GET/SET_CLOCK_GUEST, with exact values on a 3 GHz host.
 */
class KvmProposalsTest {
    private static final long SECOND = 1_000_000_000L;
    private final VirtualClock clock = new VirtualClock();
    private SimulatedHost host = SimulatedHost.standard("test", clock);

    private KvmVcpu booted(KvmVm vm) {
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        return vcpu;
    }

    @Test
    void tscValueGivesTheTscAndKvmclockOfOneReading() {
        KvmVm vm = new KvmVm(host, (l, s) -> new int[4]);
        KvmVcpu vcpu = booted(vm);
        clock.advance(SECOND);
        KvmVcpu.TscValue value = vcpu.getTscValue();
        // The master clock's extrapolation truncates: 3e9 cycles are 999,999,999 ns.
        assertEquals(new KvmVcpu.TscValue(3_000_000_000L, 999_999_999L), value);
    }

    @Test
    void settingATscValueAdvancesItByTheKvmclockSinceItsNanoseconds() {
        KvmVm vm = new KvmVm(host, (l, s) -> new int[4]);
        KvmVcpu vcpu = booted(vm);
        clock.advance(5 * SECOND);
        long now = vm.getClock().clock();
        long generation = vm.tscGeneration();
        // A TSC of 1e9 taken one kvmclock second ago is 1e9 + 3e9 cycles now.
        vcpu.setTscValue(new KvmVcpu.TscValue(1_000_000_000L, now - SECOND));
        assertEquals(4_000_000_000L, vcpu.readTsc());
        assertEquals(generation + 1, vm.tscGeneration(), "the first userspace write starts a generation");
        // kvm_ns in the future moves it back as much.
        vcpu.setTscValue(new KvmVcpu.TscValue(7_000_000_000L, now + SECOND));
        assertEquals(4_000_000_000L, vcpu.readTsc());
    }

    @Test
    void tscScaleIsTheRatioAndItsFractionBitsOrEnxioWithoutScaling() {
        KvmVm vm = new KvmVm(host, (l, s) -> new int[4]);
        vm.setTscKhz(2_500_000);
        assertEquals(new KvmVcpu.TscScale(0xd555_5555_5555L, 48), vm.createVcpu().getTscScale());
        KvmVm old = new KvmVm(host.withTscScaling(false), (l, s) -> new int[4]);
        assertEquals(Errno.ENXIO, assertThrows(KvmException.class, () -> old.createVcpu().getTscScale()).errno());
    }

    @Test
    void clockGuestIsThePvclockFromTheMasterReference() {
        KvmVm vm = new KvmVm(host, (l, s) -> new int[4]);
        KvmVcpu vcpu = vm.createVcpu();
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class, vcpu::getClockGuest).errno(),
                "no master clock before the first entry");
        vcpu.beforeEntry();
        assertEquals(new Pvclock(0, 0, 0, 0xaaaaaaaa, -1, Pvclock.TSC_STABLE_BIT), vcpu.getClockGuest());
    }

    @Test
    void setClockGuestMakesKvmclockThatFunctionOfTheTscAndRefusesOthers() {
        KvmVm vm = new KvmVm(host, (l, s) -> new int[4]);
        KvmVcpu vcpu = booted(vm);
        clock.advance(SECOND);
        // A pvclock that maps TSC 0 to 10 s: at TSC 3e9 kvmclock must read 10 s + 999,999,999 ns.
        vcpu.setClockGuest(new Pvclock(0, 0, 10 * SECOND, 0xaaaaaaaa, -1, Pvclock.TSC_STABLE_BIT));
        assertEquals(10 * SECOND + 999_999_999L, vm.getClock().clock());
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class,
                () -> vcpu.setClockGuest(new Pvclock(0, 0, 0, 0, -1, 0))).errno(), "mul 0");
        assertEquals(Errno.EINVAL, assertThrows(KvmException.class,
                () -> vcpu.setClockGuest(new Pvclock(0, 0, 0, 0xaaaaaaaa, 32, 0))).errno(), "shift 32");
        // 1 GHz's scale (mul 2^31, shift 1) is 2 GHz away from this 3 GHz vCPU.
        assertEquals(Errno.ERANGE, assertThrows(KvmException.class,
                () -> vcpu.setClockGuest(new Pvclock(0, 0, 0, 0x8000_0000, 1, 0))).errno());
    }

    @Test
    void impliedHzInvertsTheTimeScale() {
        assertEquals(3_000_000_000L, KvmVcpu.impliedHz(0xaaaa_aaaaL, -1));
        assertEquals(1_000_000_000L, KvmVcpu.impliedHz(0x8000_0000L, 1));
    }
}
