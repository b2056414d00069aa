# Tiny runtime shared by the guest images: serial output, exit, and reading kvmclock. Every
# routine preserves all registers except the flags, unless its comment says otherwise.
    .include "lib.inc"
    .text

# putc: AL = character
    .globl putc
putc:
    push rdx
    mov dx, SERIAL_PORT
    out dx, al
    pop rdx
    ret

# puts: RSI = NUL-terminated string
    .globl puts
puts:
    push rax
    push rsi
1:  lodsb
    test al, al
    jz 2f
    call putc
    jmp 1b
2:  pop rsi
    pop rax
    ret

# put_hex: RAX = value, printed as 0x followed by 16 hex digits
    .globl put_hex
put_hex:
    push rax
    push rcx
    push rdx
    mov rdx, rax
    mov al, '0'
    call putc
    mov al, 'x'
    call putc
    mov ecx, 16
1:  rol rdx, 4
    mov eax, edx
    and eax, 0xf
    cmp al, 10
    jb 2f
    add al, 'a' - 10 - '0'
2:  add al, '0'
    call putc
    dec ecx
    jnz 1b
    pop rdx
    pop rcx
    pop rax
    ret

# put_dec: RAX = unsigned value, printed in decimal
    .globl put_dec
put_dec:
    push rax
    push rcx
    push rdx
    push rbx
    mov rbx, 10
    xor ecx, ecx
1:  xor edx, edx
    div rbx
    push rdx
    inc ecx
    test rax, rax
    jnz 1b
2:  pop rax
    add al, '0'
    call putc
    dec ecx
    jnz 2b
    pop rbx
    pop rdx
    pop rcx
    pop rax
    ret

# exit: EDI = exit code; never returns
    .globl exit
exit:
    mov eax, edi
    mov dx, DEBUG_EXIT_PORT
    out dx, eax
1:  hlt
    jmp 1b

# pvclock_read: reads kvmclock from the pvclock page at RDI the way Linux's
# pvclock_clocksource_read does: read the version, RDTSC, scale the TSC delta, and retry while
# the version was odd (the host was mid-update) or changed. R11 says how the result is clamped:
#   bit 0  trust the page's PVCLOCK_TSC_STABLE_BIT (Linux when CPUID 0x40000001 has bit 24):
#          no clamp while the page has it
#   bit 1  never clamp (a raw reading)
#   else   clamp to the global last value at PVCLOCK_LAST_VALUE, with cmpxchg, as Linux does
# Returns RAX = ns, RBX = retries, R8 = the TSC used, R9 = the page's flags, R10 = 1 if the
# reading was behind the last value and was clamped to it. Clobbers RCX, RDX, RSI.
    .globl pvclock_read
pvclock_read:
    xor ebx, ebx
1:  mov esi, [rdi]                      # version
    RDTSC64
    mov r8, rax
    sub rax, [rdi + 8]                  # delta = tsc - tsc_timestamp
    movsx ecx, byte ptr [rdi + 28]      # tsc_shift
    test ecx, ecx
    js 2f
    shl rax, cl
    jmp 3f
2:  neg ecx
    shr rax, cl
3:  mov edx, [rdi + 24]                 # tsc_to_system_mul
    mul rdx
    shrd rax, rdx, 32                   # (delta * mul) >> 32
    add rax, [rdi + 16]                 # + system_time
    movzx r9d, byte ptr [rdi + 29]      # flags
    mov edx, [rdi]
    test esi, 1                         # odd: the host was mid-update
    jnz 4f
    cmp edx, esi                        # changed: the host updated while we read
    je 5f
4:  inc rbx
    jmp 1b
5:  xor r10d, r10d
    test r11, 2
    jnz 9f
    test r11, 1
    jz 6f
    test r9d, 1                         # PVCLOCK_TSC_STABLE_BIT, and the guest trusts it
    jnz 9f
6:  mov rdx, rax                        # ret
    mov rax, [PVCLOCK_LAST_VALUE]       # last
7:  cmp rdx, rax
    jbe 8f                              # ret <= last: return last
    lock cmpxchg [PVCLOCK_LAST_VALUE], rdx
    jnz 7b                              # lost a race: RAX = the new last; compare again
    mov rax, rdx
    ret
8:  je 9f                               # equal: nothing was hidden
    mov r10d, 1                         # clamped: this reading was behind another vCPU's
9:  ret
