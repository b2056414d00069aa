# fault-ud2: executes UD2, the architecturally undefined instruction.
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    PRINT "fault-ud2: executing ud2\n"
    ud2
    mov edi, 0
    jmp exit
