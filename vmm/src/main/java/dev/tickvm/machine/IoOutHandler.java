package dev.tickvm.machine;

import dev.tickvm.cpu.VcpuExit;

/** What the VMM does with an OUT that a device flagged (debug exit, a probe's doorbell). */
@FunctionalInterface
public interface IoOutHandler {
    IoOutHandler CONTINUE = (vcpu, out) -> IoAction.CONTINUE;

    IoAction onIoOut(int vcpu, VcpuExit.IoOut out);

    /** The answer of a handler: carry on, end the VM with a code, or pause it. */
    sealed interface IoAction {
        IoAction CONTINUE = new Continue();
        IoAction PAUSE = new Pause();

        record Continue() implements IoAction {
        }

        record Pause() implements IoAction {
        }

        record Exit(int code) implements IoAction {
        }
    }
}
