# Tiny runtime shared by the guest images: serial output and exit. Every routine preserves all
# registers except the flags.
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
