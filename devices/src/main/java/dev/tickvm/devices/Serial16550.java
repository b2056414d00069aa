package dev.tickvm.devices;

import dev.tickvm.bus.PortIoDevice;
import java.util.function.IntConsumer;

/**
 * A 16550-style UART, transmit side only: enough for a guest to print. Bytes written to THR
 * (offset 0 with DLAB clear) go to the sink at once; the line status register always reports an
 * empty transmitter, so polling drivers never wait. Other registers hold what was written, as a
 * real UART's scratch and control registers do, and the divisor latch is kept but has no effect.
 */
public final class Serial16550 implements PortIoDevice {
    /** COM1. */
    public static final int COM1 = 0x3f8;
    public static final int PORTS = 8;

    private static final int THR_RBR = 0;
    private static final int IER = 1;
    private static final int IIR_FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;
    private static final int LCR_DLAB = 0x80;
    /** THR empty and transmitter empty. */
    private static final int LSR_IDLE = 0x60;
    /** No interrupt pending. */
    private static final int IIR_NONE = 0x01;

    private final IntConsumer sink;
    private int ier;
    private int lcr;
    private int mcr;
    private int scr;
    private int divisor = 1;
    private long transmitted;

    /**
     * The registers a snapshot keeps (the transmit path has no queue: a byte is out once written).
     *
     * @param transmitted bytes sent so far
     */
    public record State(int ier, int lcr, int mcr, int scr, int divisor, long transmitted) {
        /** The reset values. */
        public static final State RESET = new State(0, 0, 0, 0, 1, 0);

        public State {
            if ((ier & ~0x0f) != 0 || (lcr & ~0xff) != 0 || (mcr & ~0x1f) != 0 || (scr & ~0xff) != 0
                    || (divisor & ~0xffff) != 0 || transmitted < 0) {
                throw new IllegalArgumentException("16550 state out of range: " + ier + ", " + lcr + ", " + mcr + ", " + scr
                        + ", " + divisor + ", " + transmitted);
            }
        }
    }

    /** @param sink receives each transmitted byte (0..255) */
    public Serial16550(IntConsumer sink) {
        this(sink, State.RESET);
    }

    /** A UART in a saved state, sending to {@code sink}. */
    public Serial16550(IntConsumer sink, State state) {
        this.sink = sink;
        this.ier = state.ier();
        this.lcr = state.lcr();
        this.mcr = state.mcr();
        this.scr = state.scr();
        this.divisor = state.divisor();
        this.transmitted = state.transmitted();
    }

    public State save() {
        return new State(ier, lcr, mcr, scr, divisor, transmitted);
    }

    /** Bytes the guest has transmitted. */
    public long transmitted() {
        return transmitted;
    }

    @Override
    public int read(int offset, int size) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        return switch (offset) {
            case THR_RBR -> dlab ? divisor & 0xff : 0;
            case IER -> dlab ? divisor >> 8 & 0xff : ier;
            case IIR_FCR -> IIR_NONE;
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> LSR_IDLE;
            case MSR -> 0;
            case SCR -> scr;
            default -> 0xff;
        };
    }

    @Override
    public boolean write(int offset, int size, int value) {
        int b = value & 0xff;
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (offset) {
            case THR_RBR -> {
                if (dlab) {
                    divisor = divisor & 0xff00 | b;
                } else {
                    transmitted++;
                    sink.accept(b);
                }
            }
            case IER -> {
                if (dlab) {
                    divisor = divisor & 0xff | b << 8;
                } else {
                    ier = b & 0x0f;
                }
            }
            case LCR -> lcr = b;
            case MCR -> mcr = b & 0x1f;
            case SCR -> scr = b;
            default -> {
                // FCR, LSR and MSR writes change nothing we emulate.
            }
        }
        return false;
    }
}
