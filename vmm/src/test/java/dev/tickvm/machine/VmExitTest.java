package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tickvm.cpu.FaultKind;
import dev.tickvm.cpu.VcpuExit;
import org.junit.jupiter.api.Test;

class VmExitTest {

    @Test
    void exitCodesFollowTheGuestOrTheKindOfEnd() {
        assertEquals(7, new VmExit.Exited(7).exitCode());
        assertEquals(0, new VmExit.Paused(1).exitCode());
        assertEquals(3, new VmExit.AllHalted().exitCode());
        assertEquals(4, new VmExit.Faulted(0, new VcpuExit.Fault(FaultKind.UNALIGNED, 0, -1, new byte[0], "")).exitCode());
        assertEquals(5, new VmExit.BudgetExhausted(10, 0, 0x100000).exitCode());
    }

    /** A process exit status has 8 bits: 256 must not become 0, nor -1 a plain 255 by accident. */
    @Test
    void guestCodesOutside0To255Exit255() {
        assertEquals(0, new VmExit.Exited(0).exitCode());
        assertEquals(255, new VmExit.Exited(255).exitCode());
        assertEquals(255, new VmExit.Exited(256).exitCode());
        assertEquals(255, new VmExit.Exited(512).exitCode());
        assertEquals(255, new VmExit.Exited(-1).exitCode());
        assertEquals(255, new VmExit.Exited(Integer.MIN_VALUE).exitCode());
        assertEquals("guest exited with code 256", new VmExit.Exited(256).describe());
    }

    @Test
    void describeIsOneLineForPeople() {
        assertEquals("guest exited with code 7", new VmExit.Exited(7).describe());
        assertEquals("all vCPUs halted with nothing to wake them", new VmExit.AllHalted().describe());
        assertEquals("paused by vCPU 2", new VmExit.Paused(2).describe());
        assertEquals("guest ran 1,234,567 blocks without stopping (the budget); vCPU 1 was at RIP 0x10000e",
                new VmExit.BudgetExhausted(1_234_567, 1, 0x10000e).describe());
        VcpuExit.Fault fault = new VcpuExit.Fault(FaultKind.CPU_EXCEPTION, 0x100002, 128, new byte[] {(byte) 0x90, 0x0f},
                "");
        assertEquals("vCPU 3: CPU exception at RIP 0x100002 (vector 128); bytes at RIP: 90 0f",
                new VmExit.Faulted(3, fault).describe());
        VcpuExit.Fault fetch = new VcpuExit.Fault(FaultKind.UNMAPPED_FETCH, 0x40000000, -1, new byte[0],
                "1 byte at 0x40000000, in the block");
        assertEquals("instruction fetch from unmapped memory: 1 byte at 0x40000000, in the block at RIP 0x40000000;"
                + " no guest memory at RIP", fetch.message());
    }
}
