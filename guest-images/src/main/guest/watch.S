# watch: the clock-watching loop of the clockwatch image and of the probe's WATCH command.
# A vCPU reads its TSC and, if asked, its kvmclock, round after round; turns each step between
# two consecutive readings of one clock into ns; and keeps what it finds in its watch record
# (lib.inc, W_* and WC_*): jumps (forward steps above the threshold), backs (backward steps),
# the largest steps, the last readings. With W_PRINT it also prints a line for every jump and
# back, and stats lines once per period of TSC time, each line whole under SERIAL_LOCK (these
# from two vCPUs, a host second after the first millisecond):
#   cw vcpu=0 clock=kvmclock event=jump ns=1000048720 from=4880537 to=1004929257 at_tsc=3014787774
#   cw vcpu=0 clock=tsc event=jump ns=1000054328 from=14641884 to=3014804868 at_tsc=3014804868
#   cw vcpu=0 clock=tsc event=stats reads=14163 jumps=1 backs=0 max_step_ns=1000054328 max_back_ns=0 at_tsc=3014804868
# A back has the shape of a jump, with event=back and ns the size of the step back. For the
# TSC, from and to are cycles; for kvmclock, ns. at_tsc is the TSC of the reading (for kvmclock,
# the one its pvclock computation used). Stats are totals since the start. Cycles become ns as
# floor(cycles * 1,000,000 / W_TSC_KHZ), with a 128-bit product (saturated at 2^64 - 1).
    .include "lib.inc"
    .text

# watch_start: RBP = a watch record whose settings (W_VCPU .. W_PRINT) are filled in and whose
# other fields are 0. Takes the first reading of each watched clock. Preserves every register.
    .globl watch_start
watch_start:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    mov qword ptr [rbp + W_STATE], 1
    mov rax, [rbp + W_PERIOD]
    test rax, rax
    jz 1f
    mov rcx, [rbp + W_TSC_KHZ]
    mov ebx, 1000000
    call muldiv                         # period ns * kHz / 1e6 = cycles
    test rax, rax
    jnz 1f
    mov eax, 1                          # a period shorter than a cycle: every round
1:  mov [rbp + W_PERIOD_CYCLES], rax
    RDTSC64
    mov [rbp + W_START_TSC], rax
    mov [rbp + W_STATS_TSC], rax
    mov [rbp + W_TSC + WC_LAST], rax
    mov qword ptr [rbp + W_TSC + WC_READS], 1
    cmp qword ptr [rbp + W_KVMCLOCK], 0
    je 2f
    call read_kvmclock
    mov [rbp + W_KVM + WC_LAST], rax
    mov qword ptr [rbp + W_KVM + WC_READS], 1
2:  pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    ret

# watch_loop: RBP = a record watch_start has set up. Runs rounds until W_CYCLES of TSC have
# passed since the first reading (TSC now - W_START_TSC, unsigned, as the probe's spin), or
# until it finds the u64 at W_STOP nonzero after a round: then it runs one more round, so that
# its last readings come after everything the VMM did before it asked it to stop. Then it sets
# W_STATE to 2 and returns. Preserves every register.
    .globl watch_loop
watch_loop:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    xor r13d, r13d                      # 1 in the last round
.Lround:
    RDTSC64
    mov r12, rax                        # this round's TSC
    mov rcx, rax
    xor r9d, r9d
    sub rax, [rbp + W_TSC + WC_LAST]    # this reading - the last one
    jae 1f
    neg rax                             # it went back: the size of the step
    mov r9d, 1
1:  call cycles_to_ns
    mov r8, rax
    mov r10, r12
    lea rbx, [rbp + W_TSC]
    lea rsi, [rip + name_tsc]
    call note

    cmp qword ptr [rbp + W_KVMCLOCK], 0
    je 2f
    call read_kvmclock                  # RAX = ns, R8 = its TSC
    mov r10, r8
    mov rcx, rax
    xor r9d, r9d
    sub rax, [rbp + W_KVM + WC_LAST]
    jae 1f
    neg rax
    mov r9d, 1
1:  mov r8, rax
    lea rbx, [rbp + W_KVM]
    lea rsi, [rip + name_kvmclock]
    call note

2:  inc qword ptr [rbp + W_ROUNDS]
    mov rax, [rbp + W_PERIOD_CYCLES]
    test rax, rax
    jz 3f
    mov rdx, r12
    sub rdx, [rbp + W_STATS_TSC]
    cmp rdx, rax
    jb 3f
    mov [rbp + W_STATS_TSC], r12
    cmp qword ptr [rbp + W_PRINT], 0
    je 3f
    lea rbx, [rbp + W_TSC]
    lea rsi, [rip + name_tsc]
    call print_stats
    cmp qword ptr [rbp + W_KVMCLOCK], 0
    je 3f
    lea rbx, [rbp + W_KVM]
    lea rsi, [rip + name_kvmclock]
    call print_stats

3:  test r13, r13
    jnz 5f
    mov rax, [rbp + W_STOP]
    test rax, rax
    jz 4f
    cmp qword ptr [rax], 0
    je 4f
    mov r13d, 1
    jmp .Lround
4:  mov rax, [rbp + W_CYCLES]
    test rax, rax
    jz .Lround
    mov rdx, r12
    sub rdx, [rbp + W_START_TSC]
    cmp rdx, rax
    jb .Lround
5:  mov qword ptr [rbp + W_STATE], 2
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    ret

# note: one reading of a clock. RBX = the clock's findings, RCX = the reading, R8 = the size of
# the step from the last reading in ns, R9 = 1 if the step went back, R10 = the TSC at the
# reading, RSI = the clock's name. Updates the findings; prints a jump or a back. Clobbers RAX, RDX.
note:
    mov rax, [rbx + WC_LAST]            # the previous reading, for the line
    mov [rbx + WC_LAST], rcx
    inc qword ptr [rbx + WC_READS]
    test r9, r9
    jnz 2f
    cmp r8, [rbx + WC_MAX_STEP]
    jbe 1f
    mov [rbx + WC_MAX_STEP], r8
1:  cmp r8, [rbp + W_THRESHOLD]
    jbe 9f
    inc qword ptr [rbx + WC_JUMPS]
    mov [rbx + WC_JUMP_NS], r8
    mov [rbx + WC_JUMP_TSC], r10
    lea rdx, [rip + event_jump]
    jmp 4f
2:  inc qword ptr [rbx + WC_BACKS]
    cmp r8, [rbx + WC_MAX_BACK]
    jbe 3f
    mov [rbx + WC_MAX_BACK], r8
3:  lea rdx, [rip + event_back]
4:  cmp qword ptr [rbp + W_PRINT], 0
    je 9f
    call line_start
    PRINT " event="
    push rsi
    mov rsi, rdx
    call puts
    pop rsi
    PRINT " ns="
    push rax
    mov rax, r8
    call put_dec
    PRINT " from="
    pop rax
    call put_dec
    PRINT " to="
    mov rax, rcx
    call put_dec
    PRINT " at_tsc="
    mov rax, r10
    call line_end
9:  ret

# print_stats: RBX = a clock's findings, RSI = its name, R12 = the TSC now. Clobbers RAX.
print_stats:
    call line_start
    PRINT " event=stats reads="
    mov rax, [rbx + WC_READS]
    call put_dec
    PRINT " jumps="
    mov rax, [rbx + WC_JUMPS]
    call put_dec
    PRINT " backs="
    mov rax, [rbx + WC_BACKS]
    call put_dec
    PRINT " max_step_ns="
    mov rax, [rbx + WC_MAX_STEP]
    call put_dec
    PRINT " max_back_ns="
    mov rax, [rbx + WC_MAX_BACK]
    call put_dec
    PRINT " at_tsc="
    mov rax, r12
    jmp line_end

# line_start: takes the serial lock and prints "cw vcpu=<W_VCPU> clock=<RSI>". Preserves
# every register.
line_start:
    call serial_lock
    PRINT "cw vcpu="
    push rax
    mov rax, [rbp + W_VCPU]
    call put_dec
    pop rax
    PRINT " clock="
    jmp puts

# line_end: prints RAX in decimal and a newline, then releases the serial lock. Preserves
# every register.
line_end:
    call put_dec
    PRINT "\n"
    jmp serial_unlock

# serial_lock, serial_unlock: the spinlock that keeps lines whole when several vCPUs print.
# All vCPUs run in turn on one host thread, so a lock cmpxchg is atomic among them. Preserve
# every register.
    .globl serial_lock
serial_lock:
    push rax
    push rcx
1:  xor eax, eax
    mov ecx, 1
    lock cmpxchg [SERIAL_LOCK], ecx
    jz 2f
    pause
    jmp 1b
2:  pop rcx
    pop rax
    ret

    .globl serial_unlock
serial_unlock:
    mov dword ptr [SERIAL_LOCK], 0
    ret

# read_kvmclock: RBP = a record with W_KVMCLOCK set. Reads kvmclock with pvclock_read, adds its
# retries and clamp to the record. Returns RAX = ns, R8 = the TSC it used. Clobbers RBX, RCX,
# RDX, RSI, RDI, R9, R10, R11.
read_kvmclock:
    mov rdi, [rbp + W_KVMCLOCK]
    mov r11, rdi
    and r11, 3
    and rdi, -4
    call pvclock_read
    add [rbp + W_RETRIES], rbx
    add [rbp + W_CLAMPS], r10
    ret

# cycles_to_ns: RAX = TSC cycles; returns RAX = floor(cycles * 1,000,000 / W_TSC_KHZ) ns of the
# record at RBP. Preserves the other registers.
cycles_to_ns:
    push rbx
    push rcx
    mov ecx, 1000000
    mov rbx, [rbp + W_TSC_KHZ]
    call muldiv
    pop rcx
    pop rbx
    ret

# muldiv: RAX = floor(RAX * RCX / RBX) from the 128-bit product, or 2^64 - 1 when that does not
# fit in 64 bits (DIV would fault). RBX must not be 0. Preserves the other registers.
muldiv:
    push rdx
    mul rcx
    cmp rdx, rbx
    jae 1f
    div rbx
    pop rdx
    ret
1:  mov rax, -1
    pop rdx
    ret

# cpuid_tsc_khz: RAX = the TSC frequency in kHz from the hypervisor's timing leaf 0x40000010,
# or 0 if CPUID 0x40000000 says there is no such leaf. Preserves the other registers.
    .globl cpuid_tsc_khz
cpuid_tsc_khz:
    push rbx
    push rcx
    push rdx
    mov eax, 0x40000000
    xor ecx, ecx
    cpuid
    cmp eax, 0x40000010
    jb 1f
    mov eax, 0x40000010
    xor ecx, ecx
    cpuid                               # EAX = kHz; the upper half of RAX is cleared
    jmp 2f
1:  xor eax, eax
2:  pop rdx
    pop rcx
    pop rbx
    ret

# cpuid_kvmclock: RAX = 1 if CPUID says KVM ("KVMKVMKVM") with KVM_FEATURE_CLOCKSOURCE2 (bit 3
# of leaf 0x40000001: MSR_KVM_SYSTEM_TIME_NEW), else 0. Preserves the other registers.
    .globl cpuid_kvmclock
cpuid_kvmclock:
    push rbx
    push rcx
    push rdx
    mov eax, 0x40000000
    xor ecx, ecx
    cpuid
    cmp ebx, 0x4b4d564b                 # "KVMK"
    jne 1f
    cmp ecx, 0x564b4d56                 # "VMKV"
    jne 1f
    cmp edx, 0x4d                       # "M\0\0\0"
    jne 1f
    cmp eax, 0x40000001
    jb 1f
    mov eax, 0x40000001
    xor ecx, ecx
    cpuid
    shr eax, 3
    and eax, 1
    jmp 2f
1:  xor eax, eax
2:  pop rdx
    pop rcx
    pop rbx
    ret

    .section .rodata
name_tsc:       .asciz "tsc"
name_kvmclock:  .asciz "kvmclock"
event_jump:     .asciz "jump"
event_back:     .asciz "back"
