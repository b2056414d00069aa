package dev.tickvm.images;

import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One flat guest binary and what the catalogue says of it. The image is copied to guest RAM at
 * {@code loadAddress} and entered at {@code entry} (see guest-images/README.md for the boot protocol).
 *
 * @param name             catalogue name, or the file name for an image loaded from a path
 * @param description      one line on what the guest does
 * @param loadAddress      guest-physical address of the first byte
 * @param entry            guest-physical address of the first instruction
 * @param defaultVcpus     how many vCPUs the image is meant to run on unless told otherwise
 * @param expectedExitCode the debug-exit code of a successful run, empty for images that fault
 * @param code             the bytes, copied in and out so the record stays immutable
 */
public record GuestImage(
        String name,
        String description,
        long loadAddress,
        long entry,
        int defaultVcpus,
        OptionalInt expectedExitCode,
        byte[] code) {

    public GuestImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(expectedExitCode, "expectedExitCode");
        if (code.length == 0) {
            throw new IllegalArgumentException("guest image " + name + " is empty");
        }
        if (entry < loadAddress || entry >= loadAddress + code.length) {
            throw new IllegalArgumentException("guest image " + name + ": entry 0x" + Long.toHexString(entry)
                    + " lies outside the image");
        }
        if (defaultVcpus < 1) {
            throw new IllegalArgumentException("guest image " + name + ": defaultVcpus must be >= 1");
        }
        code = code.clone();
    }

    @Override
    public byte[] code() {
        return code.clone();
    }

    /** Size of the image in bytes. */
    public int size() {
        return code.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GuestImage g && name.equals(g.name) && description.equals(g.description)
                && loadAddress == g.loadAddress && entry == g.entry && defaultVcpus == g.defaultVcpus
                && expectedExitCode.equals(g.expectedExitCode) && Arrays.equals(code, g.code);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, loadAddress, entry, Arrays.hashCode(code));
    }

    @Override
    public String toString() {
        return "GuestImage[" + name + ", " + code.length + " bytes at 0x" + Long.toHexString(loadAddress) + "]";
    }
}
