package dev.tickvm.migration;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.Pvclock;
import dev.tickvm.kvm.TscMath;
import dev.tickvm.lab.Lab;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.vm.HostSpec;
import dev.tickvm.vm.RestoreStrategy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one migration with one strategy and measures what the guest saw (docs/MIGRATION.md). The
 * guest is the probe: before the migration every vCPU reads kvmclock (with the TSC of the same
 * reading) and the wall clock; the VM is migrated through a snapshot; right after the restore
 * every vCPU reads them again, then vCPU 0 keeps reading for {@link MigrationSetup#afterNanos()}
 * and all vCPUs run the cross-vCPU sync loops. Everything is on one virtual true time, so each
 * run is exact and repeatable.
 */
public final class MigrationExperiment {
    private static final long SAMPLE_EVERY = 20_000_000L;
    private static final int SAMPLES_BEFORE = 5;

    private MigrationExperiment() {
    }

    /** A reading of one vCPU: kvmclock, the TSC it used, the wall clock's boot time, and true time just before the kvmclock read. */
    private record Reading(long trueNanos, long kvmclock, long tsc, long epochNanos, int flags) {
    }

    public static MigrationResult run(Unicorn unicorn, MigrationSetup setup, RestoreStrategy strategy) {
        VirtualClock clock = new VirtualClock();
        SimulatedHost source = HostSpec.build("source", clock, setup.source());
        SimulatedHost destination = HostSpec.build("destination", clock, setup.destination());
        Lab lab = Lab.create(unicorn, source, setup.vcpus(), setup.guestKhz());
        try {
            long khz = lab.kvm().vcpu(0).getTscKhz();
            for (int v = 0; v < setup.vcpus(); v++) {
                lab.enableKvmclock(v);
            }
            lab.wallClock(0);
            long firstSample = setup.uptimeNanos() - (SAMPLES_BEFORE - 1) * SAMPLE_EVERY;
            advanceTo(clock, Math.max(firstSample, clock.nanos()));
            List<Reading> before0 = new ArrayList<>();
            for (int i = 0; i < SAMPLES_BEFORE; i++) {
                if (i > 0) {
                    clock.advance(SAMPLE_EVERY);
                }
                before0.add(read(lab, 0));
            }
            List<Reading> before = new ArrayList<>();
            before.add(before0.getLast());
            for (int v = 1; v < setup.vcpus(); v++) {
                before.add(read(lab, v));
            }
            ClockData savedClock = lab.kvm().getClock();
            long stopped = clock.nanos();
            try {
                lab = lab.migrate(unicorn, destination, strategy, setup.downtimeNanos(), setup.staggerNanos());
            } catch (IllegalStateException e) {
                return MigrationResult.failed(strategy.name(), e.getMessage());
            }
            ClockData restoredClock = lab.kvm().getClock();
            long vmmStep = restoredClock.clock() - savedClock.clock() - (clock.nanos() - stopped);
            List<Reading> after = new ArrayList<>();
            for (int v = 0; v < setup.vcpus(); v++) {
                after.add(read(lab, v));
            }
            List<MigrationResult.Vcpu> vcpus = new ArrayList<>();
            for (int v = 0; v < setup.vcpus(); v++) {
                Reading b = before.get(v);
                Reading a = after.get(v);
                long tscStep = tscError(a, khz) - tscError(b, khz);
                long kvmStep = a.kvmclock() - a.trueNanos() - (b.kvmclock() - b.trueNanos());
                long wallStep = wallError(a, source) - wallError(b, source);
                vcpus.add(new MigrationResult.Vcpu(v, tscStep, kvmStep, wallStep, kvmStep - tscStep, a.tsc() < b.tsc(),
                        a.kvmclock() < b.kvmclock()));
            }
            List<MigrationResult.Sample> series = new ArrayList<>();
            for (Reading r : before0) {
                series.add(sample(r, stopped, khz, source));
            }
            series.add(sample(after.getFirst(), stopped, khz, source));
            Reading first = after.getFirst();
            Reading last = first;
            long end = first.trueNanos() + setup.afterNanos();
            while (clock.nanos() + SAMPLE_EVERY <= end) {
                clock.advance(SAMPLE_EVERY);
                last = read(lab, 0);
                series.add(sample(last, stopped, khz, source));
            }
            long span = last.trueNanos() - first.trueNanos();
            long tscDrift = ppb(tscError(last, khz) - tscError(first, khz), span);
            long kvmDrift = ppb((last.kvmclock() - last.trueNanos()) - (first.kvmclock() - first.trueNanos()), span);
            List<Integer> all = new ArrayList<>();
            for (int v = 0; v < setup.vcpus(); v++) {
                all.add(v);
            }
            long kvmRegressions = lab.kvmclockSync(all, 2_000, Lab.ReadMode.TRUST_STABLE).stream()
                    .mapToLong(Lab.KvmclockSyncResult::regressions).sum();
            long tscRegressions = lab.sync(all, khz).stream().mapToLong(Lab.SyncResult::regressions).sum();
            boolean master = (first.flags() & Pvclock.TSC_STABLE_BIT) != 0;
            boolean stoppedFlag = (first.flags() & Pvclock.GUEST_STOPPED_BIT) != 0;
            return new MigrationResult(strategy.name(), null, vcpus, tscDrift, kvmDrift, tscRegressions, kvmRegressions,
                    master, stoppedFlag, vmmStep, series);
        } catch (SnapshotException | IOException e) {
            return MigrationResult.failed(strategy.name(), e.getMessage());
        } finally {
            lab.close();
        }
    }

    private static void advanceTo(VirtualClock clock, long nanos) {
        if (nanos > clock.nanos()) {
            clock.advance(nanos - clock.nanos());
        }
    }

    /**
     * One measured reading. A throwaway command first: a vCPU's first entry after a pause or a
     * restore services KVM's requests and, on a destination, patches its trap sites again (the
     * snapshot holds the original bytes), so every measured read costs the same guest time.
     */
    private static Reading read(Lab lab, int vcpu) {
        lab.kvmclock(vcpu, Lab.ReadMode.RAW);
        Lab.WallClockReading wall = lab.readWallClock(vcpu);
        long t = lab.host().clock().nanos();
        Lab.KvmclockReading k = lab.kvmclock(vcpu, Lab.ReadMode.RAW);
        return new Reading(t, k.nanos(), k.tsc(), wall.seconds() * 1_000_000_000L + wall.nanos(), k.flags());
    }

    /** The TSC as ns at the guest's frequency, minus true time. */
    private static long tscError(Reading r, long khz) {
        return TscMath.mulDiv(r.tsc(), 1_000_000, khz) - r.trueNanos();
    }

    /** The guest's wall clock (boot time + kvmclock) minus the true wall-clock time. */
    private static long wallError(Reading r, SimulatedHost source) {
        return r.epochNanos() + r.kvmclock() - (source.bootEpochNanos() + r.trueNanos());
    }

    private static MigrationResult.Sample sample(Reading r, long stopped, long khz, SimulatedHost source) {
        return new MigrationResult.Sample(r.trueNanos() - stopped, tscError(r, khz), r.kvmclock() - r.trueNanos(),
                wallError(r, source));
    }

    private static long ppb(long deltaNanos, long spanNanos) {
        return spanNanos == 0 ? 0 : java.math.BigInteger.valueOf(deltaNanos).multiply(java.math.BigInteger.valueOf(1_000_000_000L))
                .divide(java.math.BigInteger.valueOf(spanNanos)).longValueExact();
    }
}
