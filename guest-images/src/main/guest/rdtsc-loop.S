# rdtsc-loop: reads the TSC 1,000,000 times, checks that no reading is below the one before,
# prints the count and the first and last values. Exit code 0 if monotonic, 1 otherwise.
    .include "lib.inc"
    .set READINGS, 1000000
    .section .text.start, "ax"
    .globl _start
_start:
    RDTSC64
    mov r13, rax                # first reading
    mov r14, rax                # previous reading
    mov r15d, 1                 # readings so far
1:  RDTSC64
    cmp rax, r14
    jb backwards
    mov r14, rax
    inc r15
    cmp r15, READINGS
    jb 1b

    PRINT "rdtsc-loop: "
    mov rax, r15
    call put_dec
    PRINT " readings, monotonic\nrdtsc-loop: first "
    mov rax, r13
    call put_hex
    PRINT " last "
    mov rax, r14
    call put_hex
    PRINT "\n"
    xor edi, edi
    jmp exit

backwards:
    mov rbx, rax
    PRINT "rdtsc-loop: TSC went backwards at reading "
    mov rax, r15
    call put_dec
    PRINT ": "
    mov rax, r14
    call put_hex
    PRINT " then "
    mov rax, rbx
    call put_hex
    PRINT "\n"
    mov edi, 1
    jmp exit
