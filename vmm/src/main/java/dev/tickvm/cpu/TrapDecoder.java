package dev.tickvm.cpu;

/**
 * Decodes the instruction at a faulting RIP to tell a trapped time instruction from a real
 * guest fault. Unicorn bug 1883 hides the exception vector after the second trap, so the bytes
 * are the only evidence.
 *
 * <p>Accepted: any run of legacy and REX prefixes except LOCK (which makes all of these #UD on
 * hardware), then 0F 31 (RDTSC), 0F 01 F9 (RDTSCP), 0F 32 (RDMSR), 0F 30 (WRMSR) or F4 (HLT),
 * within x86's 15 bytes. A REX counts only right before the opcode, so an earlier one (48 48 0F
 * 31) is ignored as hardware ignores it; operand-size and REX.W prefixes do not change what
 * these instructions do anyway.
 */
public final class TrapDecoder {
    /** x86's architectural maximum instruction length. */
    public static final int MAX_INSTRUCTION_LENGTH = 15;

    private TrapDecoder() {
    }

    /** The trap at the start of {@code code}, or null if the bytes are not one. */
    public static Trap decode(byte[] code) {
        int i = 0;
        int n = Math.min(code.length, MAX_INSTRUCTION_LENGTH);
        while (i < n && (isLegacyPrefix(code[i] & 0xff) || (code[i] & 0xf0) == 0x40)) {
            if ((code[i] & 0xff) == 0xf0) {
                return null;
            }
            i++;
        }
        if (i >= n) {
            return null;
        }
        int op = code[i] & 0xff;
        if (op == 0xf4) {
            return new Trap(TrapKind.HLT, i + 1);
        }
        if (op != 0x0f || i + 1 >= n) {
            return null;
        }
        return switch (code[i + 1] & 0xff) {
            case 0x31 -> new Trap(TrapKind.RDTSC, i + 2);
            case 0x32 -> new Trap(TrapKind.RDMSR, i + 2);
            case 0x30 -> new Trap(TrapKind.WRMSR, i + 2);
            case 0x01 -> i + 2 < n && (code[i + 2] & 0xff) == 0xf9 ? new Trap(TrapKind.RDTSCP, i + 3) : null;
            default -> null;
        };
    }

    private static boolean isLegacyPrefix(int b) {
        return switch (b) {
            case 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3 -> true;
            default -> false;
        };
    }
}
