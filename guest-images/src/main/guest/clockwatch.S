# clockwatch: every vCPU watches its own clocks, forever: its TSC and, unless told otherwise, its
# kvmclock, which it enables itself (WRMSR MSR_KVM_SYSTEM_TIME_NEW = its pvclock page | 1) when
# CPUID says KVM with kvmclock. The loop is watch.S's: a line over COM1 for every forward jump
# above the threshold, every backward step, and each clock's stats once per period of TSC time;
# the running findings in this vCPU's watch record at 0x4000 + id * 0x100 for the VMM to read.
# First, one line with what it is watching:
#   cw vcpu=0 event=start tsc_khz=3000000 threshold_ns=1000000 period_ns=1000000000 kvmclock=trust
# kvmclock= is trust, clamp or raw (how it reads the page, as the probe's modes), off, or
# unavailable (no KVM signature or no KVM_FEATURE_CLOCKSOURCE2). Without a TSC frequency it
# prints "cw vcpu=N event=error reason=no-tsc-khz" and ends the VM with exit code 1.
#
# Parameters: a block of u64 at 0xd000 that the VMM may fill before start; 0 means the default.
#   +0  threshold_ns  a forward step larger than this is a jump        (default 1,000,000: 1 ms)
#   +8  period_ns     TSC time between stats lines                     (default 1,000,000,000: 1 s)
#   +16 kvmclock      0 on, trusting TSC_STABLE as Linux with CPUID 0x40000001 bit 24; 1 off;
#                     2 on, every read clamped to the global last value; 3 on, raw (no clamp)
#   +24 tsc_khz       the TSC frequency                                (default CPUID 0x40000010)
    .include "lib.inc"
    .set PARAMS, 0xd000
    .set P_THRESHOLD, 0
    .set P_PERIOD, 8
    .set P_KVMCLOCK, 16
    .set P_TSC_KHZ, 24
    .set PVCLOCK_BASE, 0xa000           # vCPU n's pvclock page: PVCLOCK_BASE + 32 * n
    .set MSR_KVM_SYSTEM_TIME_NEW, 0x4b564d01

    .section .text.start, "ax"
    .globl _start
_start:
    mov r14, rdi                        # vCPU id
    mov rbp, rdi
    shl rbp, 8
    add rbp, WATCH_BASE                 # this vCPU's watch record
    mov rdi, rbp
    mov ecx, WATCH_SIZE / 8
    xor eax, eax
    rep stosq
    mov [rbp + W_VCPU], r14
    mov qword ptr [rbp + W_PRINT], 1

    mov rax, [PARAMS + P_THRESHOLD]
    test rax, rax
    jnz 1f
    mov eax, 1000000
1:  mov [rbp + W_THRESHOLD], rax
    mov rax, [PARAMS + P_PERIOD]
    test rax, rax
    jnz 1f
    mov eax, 1000000000
1:  mov [rbp + W_PERIOD], rax
    mov rax, [PARAMS + P_TSC_KHZ]
    test rax, rax
    jnz 1f
    call cpuid_tsc_khz
    test rax, rax
    jz no_tsc_khz
1:  mov [rbp + W_TSC_KHZ], rax

    mov rax, [PARAMS + P_KVMCLOCK]
    lea r13, [rip + mode_off]
    cmp rax, 3
    ja 3f                               # not a mode: off
    lea rbx, [rip + mode_names]
    mov r13, [rbx + rax * 8]
    lea rbx, [rip + mode_bits]
    mov r12, [rbx + rax * 8]            # pvclock_read's mode bits, or -1 for off
    test r12, r12
    js 3f
    call cpuid_kvmclock
    test rax, rax
    jnz 2f
    lea r13, [rip + mode_unavailable]
    jmp 3f
2:  mov rax, r14
    shl rax, 5
    add rax, PVCLOCK_BASE               # this vCPU's pvclock page
    or r12, rax
    mov [rbp + W_KVMCLOCK], r12
    or eax, 1                           # enabled
    xor edx, edx
    mov ecx, MSR_KVM_SYSTEM_TIME_NEW
    wrmsr

3:  call serial_lock
    PRINT "cw vcpu="
    mov rax, r14
    call put_dec
    PRINT " event=start tsc_khz="
    mov rax, [rbp + W_TSC_KHZ]
    call put_dec
    PRINT " threshold_ns="
    mov rax, [rbp + W_THRESHOLD]
    call put_dec
    PRINT " period_ns="
    mov rax, [rbp + W_PERIOD]
    call put_dec
    PRINT " kvmclock="
    mov rsi, r13
    call puts
    PRINT "\n"
    call serial_unlock

    call watch_start
    call watch_loop                     # no cycle limit and no stop flag: never returns
halt:
    hlt
    jmp halt

no_tsc_khz:
    call serial_lock
    PRINT "cw vcpu="
    mov rax, r14
    call put_dec
    PRINT " event=error reason=no-tsc-khz\n"
    call serial_unlock
    mov edi, 1
    jmp exit

    .section .rodata
    .balign 8
mode_names:
    .quad mode_trust, mode_off, mode_clamp, mode_raw
mode_bits:
    .quad 1, -1, 0, 2
mode_trust:       .asciz "trust"
mode_off:         .asciz "off"
mode_clamp:       .asciz "clamp"
mode_raw:         .asciz "raw"
mode_unavailable: .asciz "unavailable"
