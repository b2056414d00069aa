# fault-loop: spins forever; the VMM must cut it off with its execution budget.
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    PRINT "fault-loop: spinning forever\n"
1:  jmp 1b
