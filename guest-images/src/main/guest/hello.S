# hello: prints a greeting over the serial port and exits with code 0.
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    PRINT "Hello from a tickvm guest on vCPU "
    mov rax, rdi
    call put_dec
    PRINT "\n"
    xor edi, edi
    jmp exit
