# probe: a command interpreter the VMM drives through a mailbox, like the ucall mechanism of KVM
# selftests. It runs on every vCPU. Each vCPU's mailbox is at 0x8000 + id * 0x80:
#   +0  command (the VMM writes it, the probe clears it when done)   +8  arg0
#   +16 arg1    +24 arg2    +32 result0  +40 result1  +48 result2  +56 result3
#   +64 count of completed commands   +72 watch: the stop flag
# The probe HLTs until the VMM wakes it, runs the command, then rings the doorbell: a 32-bit OUT
# of its vCPU id to port 0x510. Commands (see dev.tickvm.lab.ProbeCommand):
#   1 rdtsc                     r0 = TSC
#   2 rdtscp                    r0 = TSC, r1 = TSC_AUX (ECX)
#   3 rdmsr  arg0 = MSR         r0 = value
#   4 wrmsr  arg0 = MSR, arg1 = value
#   5 cpuid  arg0 = leaf, arg1 = subleaf        r0..r3 = EAX, EBX, ECX, EDX
#   6 spin   arg0 = TSC cycles  r0 = first TSC, r1 = last TSC
#   7 batch  arg0 = count, arg1 = buffer        count TSC readings stored at buffer
#   8 sync   arg0 = TSC cycles, arg1 = shared u64: the tsc_scaling_sync loop (read the shared
#            value, read the TSC, store it, count readings below the shared value)
#                               r0 = regressions, r1 = iterations, r2 = largest regression
#   9 kvmclock arg0 = pvclock page | 1 if the guest trusts TSC_STABLE (CPUID bit 24)
#            | 2 to skip the clamp (a raw reading, to show what the clamp hides)
#            read the way Linux's pvclock_clocksource_read does: retry while the version is odd
#            or changed; without a trusted TSC_STABLE, clamp to a global last value (cmpxchg)
#                               r0 = ns, r1 = retries, r2 = TSC used, r3 = flags | clamped << 8
#  10 wallclock arg0 = address of the pvclock_wall_clock
#                               r0 = sec, r1 = nsec, r2 = version, r3 = retries
#  11 kvmclock-sync arg0 = reads, arg1 = pvclock page | trust bit, arg2 = shared u64: like sync,
#            with kvmclock: read the shared value, read kvmclock, store it, count readings below
#                               r0 = regressions, r1 = retries, r2 = clamps, r3 = largest regression
#  12 store  arg0 = address, arg1 = u32 value, arg2 = TSC cycles to spin first
#  13 watch  arg0 = TSC cycles (0: until stopped), arg1 = jump threshold in ns (0: 1 ms),
#            arg2 = pvclock page | mode bits as for kvmclock, to watch kvmclock too (0: the TSC
#            only). The clockwatch image's loop (watch.S), silent, into this vCPU's watch record
#            at 0x4000 + id * 0x100 (lib.inc). Rings the doorbell once when it has its first
#            readings, so the VMM can let time pass while it watches, and again when it ends:
#            after arg0 cycles of its TSC, or one round after it finds the stop flag at
#            mailbox +72 set (the VMM clears it before posting the command).
#                               r0 = rounds, r1 = jumps, r2 = backs (both clocks), r3 = the record
#                               r0 = -1 and no loop if CPUID has no TSC frequency (0x40000010)
#  15 stop                      the vCPU halts for good
    .include "lib.inc"
    .set MAILBOX_BASE, 0x8000
    .set MAILBOX_SIZE, 0x80
    .set DOORBELL_PORT, 0x510
    .set CMD, 0
    .set ARG0, 8
    .set ARG1, 16
    .set ARG2, 24
    .set R0, 32
    .set R1, 40
    .set R2, 48
    .set R3, 56
    .set DONE, 64
    .set WATCH_STOP, 72

    .section .text.start, "ax"
    .globl _start
_start:
    mov r14, rdi                        # vCPU id
    mov r15, rdi
    shl r15, 7
    add r15, MAILBOX_BASE               # this vCPU's mailbox
wait:
    hlt
    mov rax, [r15 + CMD]
    test rax, rax
    jz wait
    cmp rax, 15
    je stop
    cmp rax, 13
    ja unknown
    lea rbx, [rip + table]
    jmp [rbx + rax * 8]

cmd_rdtsc:
    RDTSC64
    mov [r15 + R0], rax
    jmp done

cmd_rdtscp:
    rdtscp
    shl rdx, 32
    or rax, rdx
    mov [r15 + R0], rax
    mov [r15 + R1], rcx
    jmp done

cmd_rdmsr:
    mov rcx, [r15 + ARG0]
    rdmsr
    shl rdx, 32
    mov eax, eax
    or rax, rdx
    mov [r15 + R0], rax
    jmp done

cmd_wrmsr:
    mov rcx, [r15 + ARG0]
    mov rax, [r15 + ARG1]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    jmp done

cmd_cpuid:
    mov rax, [r15 + ARG0]
    mov rcx, [r15 + ARG1]
    cpuid
    mov [r15 + R0], rax
    mov [r15 + R1], rbx
    mov [r15 + R2], rcx
    mov [r15 + R3], rdx
    jmp done

cmd_spin:
    RDTSC64
    mov rsi, rax                        # first reading
1:  RDTSC64
    mov rdi, rax
    sub rdi, rsi
    cmp rdi, [r15 + ARG0]
    jb 1b
    mov [r15 + R0], rsi
    mov [r15 + R1], rax
    jmp done

cmd_batch:
    mov rcx, [r15 + ARG0]
    mov rdi, [r15 + ARG1]
    test rcx, rcx
    jz done
    mov rbx, rcx
1:  RDTSC64
    mov [rdi], rax
    add rdi, 8
    dec rbx
    jnz 1b
    jmp done

cmd_sync:
    mov rdi, [r15 + ARG1]               # the shared value
    xor r8, r8                          # regressions
    xor r9, r9                          # iterations
    xor r10, r10                        # largest regression
    RDTSC64
    mov rsi, rax                        # start
1:  mov rbx, [rdi]                      # tmp = READ_ONCE(shared)
    RDTSC64                             # local = rdtsc()
    mov [rdi], rax                      # WRITE_ONCE(shared, local)
    inc r9
    cmp rax, rbx
    jae 2f
    inc r8
    mov rcx, rbx
    sub rcx, rax
    cmp rcx, r10
    jbe 2f
    mov r10, rcx
2:  mov rcx, rax
    sub rcx, rsi
    cmp rcx, [r15 + ARG0]
    jb 1b
    mov [r15 + R0], r8
    mov [r15 + R1], r9
    mov [r15 + R2], r10
    jmp done

cmd_kvmclock:
    mov rdi, [r15 + ARG0]
    mov r11, rdi
    and rdi, -4
    call pvclock_read
    mov [r15 + R0], rax
    mov [r15 + R1], rbx
    mov [r15 + R2], r8
    shl r10, 8
    or r9, r10
    mov [r15 + R3], r9
    jmp done

cmd_wallclock:
    mov rdi, [r15 + ARG0]
    xor ebx, ebx
1:  mov esi, [rdi]                      # version
    mov eax, [rdi + 4]                  # sec
    mov ecx, [rdi + 8]                  # nsec
    mov edx, [rdi]
    test esi, 1
    jnz 2f
    cmp edx, esi
    je 3f
2:  inc rbx
    jmp 1b
3:  mov [r15 + R0], rax
    mov [r15 + R1], rcx
    mov [r15 + R2], rsi
    mov [r15 + R3], rbx
    jmp done

cmd_kvmclock_sync:
    mov r12, [r15 + ARG0]               # reads left
    mov rdi, [r15 + ARG1]
    mov r11, rdi
    and rdi, -4
    mov r13, [r15 + ARG2]               # the shared value
    xor eax, eax
    mov [r15 + R0], rax
    mov [r15 + R1], rax
    mov [r15 + R2], rax
    mov [r15 + R3], rax
    test r12, r12
    jz done
1:  mov rcx, [r13]                      # tmp = READ_ONCE(shared)
    push rcx
    call pvclock_read
    pop rcx
    mov [r13], rax                      # WRITE_ONCE(shared, ns)
    add [r15 + R1], rbx
    add [r15 + R2], r10
    cmp rax, rcx
    jae 2f
    inc qword ptr [r15 + R0]
    sub rcx, rax
    cmp rcx, [r15 + R3]
    jbe 2f
    mov [r15 + R3], rcx
2:  dec r12
    jnz 1b
    jmp done

cmd_store:
    RDTSC64
    mov rsi, rax
1:  RDTSC64
    sub rax, rsi
    cmp rax, [r15 + ARG2]
    jb 1b
    mov rdi, [r15 + ARG0]
    mov rax, [r15 + ARG1]
    mov [rdi], eax
    jmp done

cmd_watch:
    push rbp
    mov rbp, r14
    shl rbp, 8
    add rbp, WATCH_BASE                 # this vCPU's watch record
    mov rdi, rbp
    mov ecx, WATCH_SIZE / 8
    xor eax, eax
    rep stosq
    call cpuid_tsc_khz
    test rax, rax
    jz 2f
    mov [rbp + W_TSC_KHZ], rax
    mov [rbp + W_VCPU], r14
    mov rax, [r15 + ARG1]
    test rax, rax
    jnz 1f
    mov eax, 1000000
1:  mov [rbp + W_THRESHOLD], rax
    mov rax, [r15 + ARG2]
    mov [rbp + W_KVMCLOCK], rax
    mov rax, [r15 + ARG0]
    mov [rbp + W_CYCLES], rax
    lea rax, [r15 + WATCH_STOP]
    mov [rbp + W_STOP], rax
    call watch_start
    mov eax, r14d                       # started: the VMM may let time pass now
    mov dx, DOORBELL_PORT
    out dx, eax
    # End the block here: a store after a doorbell OUT in the same block (the CALL's push)
    # makes Unicorn stop at that store with RIP at the block's start, and the VMM would run
    # the OUT again (docs/ARCHITECTURE.md).
    jmp 3f
3:  call watch_loop
    mov rax, [rbp + W_ROUNDS]
    mov [r15 + R0], rax
    mov rax, [rbp + W_TSC + WC_JUMPS]
    add rax, [rbp + W_KVM + WC_JUMPS]
    mov [r15 + R1], rax
    mov rax, [rbp + W_TSC + WC_BACKS]
    add rax, [rbp + W_KVM + WC_BACKS]
    mov [r15 + R2], rax
    mov [r15 + R3], rbp
    pop rbp
    jmp done
2:  pop rbp
    jmp unknown

unknown:
    mov qword ptr [r15 + R0], -1
done:
    mov qword ptr [r15 + CMD], 0
    inc qword ptr [r15 + DONE]
    mov eax, r14d
    mov dx, DOORBELL_PORT
    out dx, eax
    jmp wait

stop:
    mov qword ptr [r15 + CMD], 0
    inc qword ptr [r15 + DONE]
    mov eax, r14d
    mov dx, DOORBELL_PORT
    out dx, eax
1:  hlt
    jmp 1b

    .section .rodata
    .balign 8
table:
    .quad unknown, cmd_rdtsc, cmd_rdtscp, cmd_rdmsr, cmd_wrmsr, cmd_cpuid, cmd_spin, cmd_batch, cmd_sync
    .quad cmd_kvmclock, cmd_wallclock, cmd_kvmclock_sync, cmd_store, cmd_watch
