# fault-unmapped: reads guest-physical address 0x7f0000000000, far beyond any guest RAM.
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    PRINT "fault-unmapped: reading 0x7f0000000000\n"
    mov rax, 0x7f0000000000
    mov rax, [rax]
    mov edi, 0
    jmp exit
