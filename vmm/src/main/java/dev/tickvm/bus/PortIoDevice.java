package dev.tickvm.bus;

/**
 * A device on the x86 I/O port bus. Offsets are relative to the device's base port; sizes are
 * 1, 2 or 4 bytes. Devices know nothing of vCPUs or engines.
 */
public interface PortIoDevice {

    /** The value the guest reads. */
    int read(int offset, int size);

    /**
     * Handles a guest write.
     *
     * @return true if the VMM must look at this write before the guest goes on (the vCPU exits
     *         with {@code VcpuExit.IoOut}); false to carry on in the guest
     */
    boolean write(int offset, int size, int value);

    /**
     * A device whose every write needs the VMM and whose reads return 0: a doorbell, such as
     * the probe's, or a test's signal port.
     */
    static PortIoDevice doorbell() {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                return 0;
            }

            @Override
            public boolean write(int offset, int size, int value) {
                return true;
            }
        };
    }
}
