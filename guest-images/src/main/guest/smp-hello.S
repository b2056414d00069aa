# smp-hello: every vCPU prints its id under a spinlock; vCPU 0 waits for all of them, then
# exits with code 0. The others halt.
    .include "lib.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    mov r12, rdi                # this vCPU's id
    mov r13, rsi                # number of vCPUs
1:  xor eax, eax
    mov ecx, 1
    lock cmpxchg [rip + print_lock], ecx
    jz 2f
    pause
    jmp 1b
2:  PRINT "smp-hello: hello from vCPU "
    mov rax, r12
    call put_dec
    PRINT "\n"
    lock inc qword ptr [rip + reported]
    mov dword ptr [rip + print_lock], 0
    test r12, r12
    jnz halt

3:  pause
    mov rax, [rip + reported]
    cmp rax, r13
    jb 3b
    PRINT "smp-hello: all "
    mov rax, r13
    call put_dec
    PRINT " vCPUs reported\n"
    xor edi, edi
    jmp exit

halt:
    hlt
    jmp halt

    .data
print_lock: .long 0
    .balign 8
reported:   .quad 0
