package dev.tickvm.vm;

import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.cpu.NativeCpuid;
import dev.tickvm.cpu.PatchTable;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.cpu.VcpuState;
import dev.tickvm.devices.DebugExit;
import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.devices.Serial16550;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.images.GuestImage;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.machine.IoOutHandler;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.snapshot.ByteOverride;
import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SaveResult;
import dev.tickvm.snapshot.SaveTimes;
import dev.tickvm.snapshot.Section;
import dev.tickvm.snapshot.SectionReader;
import dev.tickvm.snapshot.SectionType;
import dev.tickvm.snapshot.SectionWriter;
import dev.tickvm.snapshot.Snapshot;
import dev.tickvm.snapshot.SnapshotContents;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.snapshot.SnapshotFormatException;
import dev.tickvm.snapshot.SnapshotHeader;
import dev.tickvm.snapshot.SnapshotIoException;
import dev.tickvm.unicorn.Unicorn;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * One whole VM, assembled in one place: the kvm layer on a simulated host, the machine (guest RAM,
 * vCPUs, scheduler) and the devices (COM1, debug exit, the lab's doorbell, the kvmclock device).
 * It boots an image, or is rebuilt from a snapshot file with a {@link RestoreStrategy}, and saves
 * itself to one (docs/SNAPSHOT.md). The command line, the lab and the scenario language all build
 * their VMs here, so a VM is assembled, saved and restored the same way whoever asks.
 */
public final class VirtualMachine implements AutoCloseable {
    /** The probe's doorbell: an OUT here pauses the VM so the VMM can read the probe's results. */
    public static final int DOORBELL_PORT = 0x510;
    /** The VMM's own state a caller keeps in a snapshot (the lab's), at most this many bytes. */
    public static final int MAX_VMM_STATE = 1 << 20;

    /**
     * How the VM runs, whatever it runs.
     *
     * @param quantum  blocks a vCPU runs before the next one's turn
     * @param budget   blocks the whole VM may run before it counts as a runaway
     * @param trapMode how trapped time instructions reach the VMM
     */
    public record Settings(long quantum, long budget, TrapMode trapMode) {
        public static final Settings DEFAULT = new Settings(Machine.DEFAULT_QUANTUM, Machine.DEFAULT_BUDGET, TrapMode.PATCH);

        public Settings withQuantum(long blocks) {
            return new Settings(blocks, budget, trapMode);
        }

        public Settings withBudget(long blocks) {
            return new Settings(quantum, blocks, trapMode);
        }
    }

    /** A VM rebuilt from a snapshot, and the VMM state its saver kept with it. */
    public record Restored(VirtualMachine vm, byte[] vmmState, SnapshotHeader header) {
    }

    private final SimulatedHost host;
    private final KvmVm kvm;
    private final Machine machine;
    private final Serial16550 serial;
    private final DebugExit debugExit;
    private final KvmClockDevice clockDevice;
    private final String imageName;

    private VirtualMachine(SimulatedHost host, KvmVm kvm, Machine machine, Serial16550 serial, DebugExit debugExit,
            String imageName) {
        this.host = host;
        this.kvm = kvm;
        this.machine = machine;
        this.serial = serial;
        this.debugExit = debugExit;
        this.clockDevice = new KvmClockDevice(kvm);
        this.imageName = imageName;
    }

    /**
     * Creates a VM on {@code host} and loads {@code image} on {@code vcpus} vCPUs. {@code vmTscKhz}
     * is set on the VM before the vCPUs are created (KVM_SET_TSC_KHZ on the VM fd); 0 keeps the
     * host's frequency. Nothing runs yet.
     */
    public static VirtualMachine boot(Unicorn unicorn, SimulatedHost host, GuestImage image, int vcpus, long memorySize,
            long vmTscKhz, Settings settings, IntConsumer serialOut) {
        KvmVm kvm = newKvm(unicorn, host);
        if (vmTscKhz != 0) {
            kvm.setTscKhz(vmTscKhz);
        }
        DebugExit debugExit = new DebugExit();
        Serial16550 serial = new Serial16550(serialOut);
        Machine machine = machine(unicorn, host, kvm, settings, serial, debugExit).vcpus(vcpus).memorySize(memorySize)
                .image(image.loadAddress(), image.entry(), image.code()).build();
        kvm.attachMemory(machine.memory());
        return new VirtualMachine(host, kvm, machine, serial, debugExit, image.name());
    }

    private static KvmVm newKvm(Unicorn unicorn, SimulatedHost host) {
        return new KvmVm(host, (leaf, subleaf) -> NativeCpuid.query(unicorn, leaf, subleaf));
    }

    private static Machine.Builder machine(Unicorn unicorn, SimulatedHost host, KvmVm kvm, Settings settings,
            Serial16550 serial, DebugExit debugExit) {
        return Machine.builder()
                .unicorn(unicorn)
                .clock(host.clock())
                .quantum(settings.quantum())
                .budget(settings.budget())
                .trapMode(settings.trapMode())
                .device(Serial16550.COM1, Serial16550.PORTS, serial)
                .device(DebugExit.PORT, DebugExit.PORTS, debugExit)
                .device(DOORBELL_PORT, 4, PortIoDevice.doorbell())
                .onIoOut((vcpu, out) -> out.port() == DOORBELL_PORT ? IoOutHandler.IoAction.PAUSE
                        : debugExit.exitCode().isPresent() ? new IoOutHandler.IoAction.Exit(debugExit.exitCode().getAsInt())
                        : IoOutHandler.IoAction.CONTINUE)
                // KVM_CREATE_VCPU for each vCPU, in id order, as the machine creates its engines.
                .trapEmulators(i -> kvm.createVcpu());
    }

    public SimulatedHost host() {
        return host;
    }

    public KvmVm kvm() {
        return kvm;
    }

    public Machine machine() {
        return machine;
    }

    public KvmClockDevice clockDevice() {
        return clockDevice;
    }

    public Serial16550 serial() {
        return serial;
    }

    /** The catalogue name or file the VM booted from (kept across snapshots). */
    public String imageName() {
        return imageName;
    }

    /** Runs the vCPUs until the VM ends or pauses ({@link Machine#run()}). */
    public VmExit run() {
        return machine.run();
    }

    /** Runs until the VM ends or pauses, or until the host clock reaches {@code untilNanos}. */
    public VmExit run(long untilNanos) {
        return machine.run(untilNanos);
    }

    // ---- save ---------------------------------------------------------------------------------

    /**
     * Saves the VM to {@code file}, atomically (docs/SNAPSHOT.md). Call it between runs. The VM
     * stops first, as QEMU's does: the kvmclock device freezes kvmclock, then KVM's state is read
     * through its control plane ({@link KvmSaved#capture}) and each vCPU's from its engine; RAM is
     * stored with the original bytes at the sites the VMM patched. The VM stays stopped: call
     * {@link #resumeAfterSave} to let it run on (a live snapshot), or close it.
     *
     * @param vmmState the caller's own state to keep with the VM (the lab's), or an empty array
     */
    public SaveResult save(Path file, byte[] vmmState, Progress progress) throws SnapshotIoException {
        if (vmmState.length > MAX_VMM_STATE) {
            throw new IllegalArgumentException("VMM state of " + vmmState.length + " bytes; at most " + MAX_VMM_STATE);
        }
        KvmSaved kernel = KvmSaved.capture(kvm, clockDevice);
        SimulatedHost.Reading now = host.read();
        List<Section> sections = new ArrayList<>();
        int vcpus = machine.vcpus().size();
        for (int i = 0; i < vcpus; i++) {
            sections.add(new Section(SectionType.VCPU, i, new SectionWriter().putBytes(encode(machine.vcpus().get(i).saveState()))));
            sections.add(new Section(SectionType.KVM_VCPU, i, kernel.encodeVcpu(i)));
        }
        sections.add(new Section(SectionType.KVM_VM, 0, kernel.encodeVm()));
        Serial16550.State uart = serial.save();
        sections.add(new Section(SectionType.DEVICES, 0, new SectionWriter().putInt(uart.ier()).putInt(uart.lcr())
                .putInt(uart.mcr()).putInt(uart.scr()).putInt(uart.divisor()).putLong(uart.transmitted())
                .putInt(machine.nextScheduled()).putString(imageName).putBytes(vmmState)));
        List<ByteOverride> originals = new ArrayList<>();
        for (PatchTable.Site site : machine.patches().sites()) {
            originals.add(new ByteOverride(site.address(), site.original()));
        }
        SnapshotHeader header = new SnapshotHeader(version(), machine.unicorn().version().toString(),
                HostSpec.toParameters(host), vcpus, machine.memory().size(),
                new SaveTimes(now.trueNanos(), now.rawNanos(), now.realtimeNanos(), now.tsc()));
        return Snapshot.save(file, new SnapshotContents(header, machine.memory().segment(), originals, sections), progress);
    }

    /** The VM runs again after a save: KVM_SET_CLOCK with the frozen clock, as QEMU's cont. */
    public void resumeAfterSave() {
        clockDevice.resume();
    }

    private static byte[] encode(VcpuState state) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            state.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** tickvm's version, as the jar's manifest says, for snapshot headers. */
    public static String version() {
        String own = VirtualMachine.class.getPackage().getImplementationVersion();
        return own == null ? "development build" : own;
    }

    // ---- restore ------------------------------------------------------------------------------

    /**
     * Rebuilds a saved VM on {@code destination}. The whole file is checked and every section
     * decoded before anything is built (a bad file gives a {@link SnapshotFormatException} that
     * names the section and the check); then the destination's KVM VM and vCPUs are created, RAM
     * and registers put back, the devices restored, and {@code strategy} restores time through
     * KVM's control plane and starts the VM clock. The vCPUs have not run on the destination yet.
     */
    public static Restored restore(Unicorn unicorn, Path file, SimulatedHost destination, RestoreStrategy strategy,
            Settings settings, IntConsumer serialOut, Progress progress) throws SnapshotException {
        return restore(unicorn, file, header -> destination, strategy, settings, serialOut, progress);
    }

    /**
     * As above, with the destination chosen once the header is known (to rebuild the source host,
     * or to start a host's clock at the save's true time plus a downtime).
     */
    public static Restored restore(Unicorn unicorn, Path file, Function<SnapshotHeader, SimulatedHost> destinationFor,
            RestoreStrategy strategy, Settings settings, IntConsumer serialOut, Progress progress) throws SnapshotException {
        return restore(unicorn, file, destinationFor, strategy, RestoreStrategy.Pace.NONE, settings, serialOut, progress);
    }

    /** As above, with {@code pace} between the strategy's per-vCPU calls (a VMM's stagger). */
    public static Restored restore(Unicorn unicorn, Path file, Function<SnapshotHeader, SimulatedHost> destinationFor,
            RestoreStrategy strategy, RestoreStrategy.Pace pace, Settings settings, IntConsumer serialOut,
            Progress progress) throws SnapshotException {
        try (Snapshot snapshot = Snapshot.open(file)) {
            SnapshotHeader header = snapshot.header();
            int vcpus = header.vcpuCount();
            List<VcpuState> states = new ArrayList<>();
            List<SectionReader> kernelVcpus = new ArrayList<>();
            for (int i = 0; i < vcpus; i++) {
                SectionReader r = required(snapshot, SectionType.VCPU, i);
                states.add(decodeVcpu(r, r.getBytes(1 << 16)));
                r.finish();
                kernelVcpus.add(required(snapshot, SectionType.KVM_VCPU, i));
            }
            KvmSaved kernel = KvmSaved.decode(required(snapshot, SectionType.KVM_VM, 0), kernelVcpus);
            SectionReader d = required(snapshot, SectionType.DEVICES, 0);
            int ier = d.getInt();
            int lcr = d.getInt();
            int mcr = d.getInt();
            int scr = d.getInt();
            int divisor = d.getInt();
            long transmitted = d.getLong();
            Serial16550.State uart;
            try {
                uart = new Serial16550.State(ier, lcr, mcr, scr, divisor, transmitted);
            } catch (IllegalArgumentException e) {
                throw d.invalid(e.getMessage());
            }
            int next = d.getInt();
            if (next < 0 || next >= vcpus) {
                throw d.invalid("next vCPU " + next + " of " + vcpus);
            }
            String image = d.getString(4096);
            byte[] vmmState = d.getBytes(MAX_VMM_STATE);
            d.finish();

            SimulatedHost destination = destinationFor.apply(header);
            if (destination.trueNanos() < header.times().trueNanos()) {
                throw new IllegalArgumentException(String.format("the destination's true time (%,d ns) is before the"
                        + " save's (%,d ns): a VM cannot be restored into its past", destination.trueNanos(),
                        header.times().trueNanos()));
            }
            KvmVm kvm = newKvm(unicorn, destination);
            DebugExit debugExit = new DebugExit();
            Serial16550 serial = new Serial16550(serialOut, uart);
            Machine machine;
            try {
                machine = machine(unicorn, destination, kvm, settings, serial, debugExit).memorySize(header.ramSize())
                        .restore(states, memory -> readRam(snapshot, memory, progress)).build();
            } catch (RamReadFailure e) {
                throw e.cause;
            }
            try {
                kvm.attachMemory(machine.memory());
                machine.scheduleNext(next);
                VirtualMachine vm = new VirtualMachine(destination, kvm, machine, serial, debugExit, image);
                strategy.restore(kvm, kernel, vm.clockDevice, pace);
                return new Restored(vm, vmmState, header);
            } catch (RuntimeException e) {
                machine.close();
                throw e;
            }
        }
    }

    private static SectionReader required(Snapshot snapshot, SectionType type, int index) throws SnapshotException {
        return snapshot.section(type, index).orElseThrow(() -> new IllegalStateException(
                "the snapshot has no " + type + " section " + index + " (a file of another kind of VM)"));
    }

    private static VcpuState decodeVcpu(SectionReader reader, byte[] bytes) throws SnapshotFormatException {
        try {
            return VcpuState.readFrom(new DataInputStream(new ByteArrayInputStream(bytes)));
        } catch (IOException e) {
            throw reader.invalid(e.getMessage());
        }
    }

    /** Carries a snapshot's checked exception out of the machine builder's RAM callback. */
    private static final class RamReadFailure extends RuntimeException {
        final SnapshotException cause;

        RamReadFailure(SnapshotException cause) {
            super(cause.getMessage(), cause, false, false);
            this.cause = cause;
        }
    }

    private static void readRam(Snapshot snapshot, GuestMemory memory, Progress progress) {
        try {
            snapshot.readRamInto(memory.segment(), progress);
        } catch (SnapshotException e) {
            throw new RamReadFailure(e);
        }
    }

    @Override
    public void close() {
        machine.close();
    }
}
