package dev.tickvm.host;

/**
 * How much virtual host time guest work costs. The defaults are round numbers near what a
 * modern core does natively: a translated block of a few instructions takes about 2 ns, and an
 * exit to the VMM (a trapped RDTSC, an OUT) about 50 ns. They are a model, not a measurement of
 * the emulator: the point is that the same run always sees the same time.
 *
 * @param nanosPerBlock virtual ns charged per executed translated block
 * @param nanosPerExit  virtual ns charged per exit to the VMM
 */
public record CostModel(long nanosPerBlock, long nanosPerExit) {
    public static final CostModel DEFAULT = new CostModel(2, 50);

    public CostModel {
        if (nanosPerBlock < 0 || nanosPerExit < 0) {
            throw new IllegalArgumentException("costs must be >= 0: " + nanosPerBlock + ", " + nanosPerExit);
        }
    }
}
