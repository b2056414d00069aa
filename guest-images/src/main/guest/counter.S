# counter: every vCPU counts and prints a running sequence, one line per step under a spinlock:
# "counter: vcpu V step N". The work between two lines is a fixed loop, so the output depends
# only on how the vCPUs are scheduled, not on time: a VM saved and restored mid-run prints what
# an uninterrupted one prints. vCPU 0 exits with code 0 after its 200th line.
    .include "lib.inc"
    .set STEPS, 200
    .set WORK, 20000
    .section .text.start, "ax"
    .globl _start
_start:
    mov r12, rdi                # this vCPU's id
    xor r13d, r13d              # steps printed
next:
    mov ecx, WORK
1:  add rbx, rcx                # the work: a loop the guest cannot skip
    dec ecx
    jnz 1b
2:  xor eax, eax
    mov ecx, 1
    lock cmpxchg [rip + print_lock], ecx
    jz 3f
    pause
    jmp 2b
3:  PRINT "counter: vcpu "
    mov rax, r12
    call put_dec
    PRINT " step "
    mov rax, r13
    call put_dec
    PRINT "\n"
    mov dword ptr [rip + print_lock], 0
    inc r13
    test r12, r12
    jnz next
    cmp r13, STEPS
    jb next
    xor edi, edi
    jmp exit

    .data
print_lock: .long 0
