# fault-msr: reads MSR 0x12345678, which no CPU has. KVM injects #GP; a tickvm guest cannot take
# its own faults, so the VM ends with an exit naming the MSR.
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    PRINT "fault-msr: reading MSR 0x12345678\n"
    mov ecx, 0x12345678
    rdmsr
    mov edi, 0
    jmp exit
