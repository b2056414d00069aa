package dev.tickvm.bus;

import java.util.Map;
import java.util.TreeMap;

/**
 * The I/O port space: devices registered on non-overlapping port ranges. Reads of unclaimed
 * ports return all ones and writes to them are dropped, as on a PC with nothing decoding them.
 */
public final class PortIoBus {
    private record Range(int base, int length, PortIoDevice device) {
    }

    private final TreeMap<Integer, Range> ranges = new TreeMap<>();

    /** Claims ports [base, base + length) for a device. */
    public void register(int base, int length, PortIoDevice device) {
        if (base < 0 || length < 1 || base + length > 0x10000) {
            throw new IllegalArgumentException(String.format("bad port range 0x%x+%d", base, length));
        }
        Map.Entry<Integer, Range> below = ranges.floorEntry(base + length - 1);
        if (below != null && below.getValue().base + below.getValue().length > base) {
            throw new IllegalArgumentException(String.format("ports 0x%x+%d overlap a device at 0x%x", base, length,
                    below.getKey()));
        }
        ranges.put(base, new Range(base, length, device));
    }

    public int read(int port, int size) {
        Range r = find(port);
        return r == null ? (int) ((1L << (size * 8)) - 1) : r.device.read(port - r.base, size);
    }

    /** Returns true if the device wants the VMM to see this write. */
    public boolean write(int port, int size, int value) {
        Range r = find(port);
        return r != null && r.device.write(port - r.base, size, value);
    }

    private Range find(int port) {
        Map.Entry<Integer, Range> e = ranges.floorEntry(port);
        if (e == null) {
            return null;
        }
        Range r = e.getValue();
        return port < r.base + r.length ? r : null;
    }
}
