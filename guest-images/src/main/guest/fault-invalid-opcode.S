# fault-invalid-opcode: executes the bytes 0a ff ff df. Unicorn 2.1.x reports an invalid
# instruction; Debian bookworm's Unicorn 2.0.1 aborts the whole process on them when they start a
# translated block (measured: in the middle of a block they are a plain #GP there).
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    PRINT "fault-invalid-opcode: executing 0a ff ff df\n"
    # The jump makes the bytes start a translated block: 2.0.1 aborts only then.
    jmp 1f
1:  .byte 0x0a, 0xff, 0xff, 0xdf
    mov edi, 0
    jmp exit
