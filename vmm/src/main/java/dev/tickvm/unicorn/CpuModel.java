package dev.tickvm.unicorn;

/** Unicorn's x86 CPU models that tickvm offers (uc_cpu_x86 values). */
public enum CpuModel {
    /** Unicorn's default; has no RDTSCP (RDTSCP then raises #UD on 2.1.x). */
    QEMU64(0),
    /** Has RDTSCP and invariant-TSC-era features; tickvm's default. */
    HASWELL(19),
    SKYLAKE_CLIENT(21);

    final int id;

    CpuModel(int id) {
        this.id = id;
    }
}
