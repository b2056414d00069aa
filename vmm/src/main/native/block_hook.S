# tickvm's native per-block hook: what every vCPU does at the start of every translated block,
# without an upcall into the JVM (about 37 ns a block; this is 1 to 3). Unicorn calls it as a
# UC_HOOK_BLOCK callback:
#
#     void tickvm_block_hook(uc_engine *uc, uint64_t address, uint32_t size, struct block_state *s)
#
# and it does, in this order, exactly what the Java fallback dev.tickvm.cpu.BlockState.onBlock
# does (the two must stay in step: BlockHookEquivalenceTest runs the same guests under both):
#
#     record the block's first and last page in the code-page bitmap (see CodePages), and a
#         page seen for the first time on the fresh list, or set fresh_overflow when it is full;
#     if (s->stop_requested || s->blocks >= s->stop_at) {   /* an I/O hook asked, or quantum */
#         s->stopped = 1;
#         return s->uc_emu_stop(uc);                        /* the block does not run */
#     }
#     s->blocks++;  s->block_address = address;  s->block_size = size;
#     if (s->crash_record) { rip = address; vcpu = s->vcpu; recorded = 1; }
#
# GNU assembler rather than C: binutils already builds the guest images, so the hook needs no
# compiler on the machine. No relocations, no stack frame, no libc: it is position independent
# and calls uc_emu_stop through the pointer in the state (passed by Java), so it does not link
# against any particular libunicorn.
#
# struct block_state, 104 bytes (BlockState.LAYOUT in Java names the same offsets):
.set BLOCKS,          0     # u64  blocks run
.set STOP_AT,         8     # u64  stop when blocks reaches it
.set BLOCK_ADDRESS,  16     # u64  the block running now
.set BLOCK_SIZE,     24     # u32
.set STOP_REQUESTED, 28     # u32  set by the I/O hooks
.set STOPPED,        32     # u32  set here when this hook stopped the engine
.set VCPU,           36     # i32  vCPU id, for the crash record
.set UC_EMU_STOP,    40     # int (*)(uc_engine *)
.set CRASH_RECORD,   48     # u8 *, or NULL: the mapped crash-record file (CrashRecord)
.set LAST_PAGE,      56     # u64  page of the last recorded block (-1: none)
.set RECORDED,       64     # u64 *: one bit per RAM page
.set RAM_PAGES,      72     # u64
.set FRESH,          80     # u64 *: pages first seen since Java last took them
.set FRESH_COUNT,    88     # u32
.set FRESH_CAP,      92     # u32
.set FRESH_OVERFLOW, 96     # u32
# Crash record file offsets (CrashRecord):
.set CR_RIP,        128
.set CR_VCPU,       136
.set CR_SET,        140

        .text
        .globl  tickvm_block_hook
        .type   tickvm_block_hook, @function
        .p2align 4
tickvm_block_hook:
        # rdi = uc, rsi = address, edx = size (upper half undefined), rcx = state
        movl    %edx, %edx
        movq    %rsi, %rax
        shrq    $12, %rax                       # rax = first page
        leaq    -1(%rsi,%rdx), %r8
        testl   %edx, %edx
        cmovzq  %rsi, %r8                       # a 0-byte block covers its first byte
        shrq    $12, %r8                        # r8 = last page
        cmpq    LAST_PAGE(%rcx), %rax
        jne     .Lrecord
        cmpq    %rax, %r8
        jne     .Lrecord
.Lcount:
        cmpl    $0, STOP_REQUESTED(%rcx)
        jne     .Lstop
        movq    BLOCKS(%rcx), %rax
        cmpq    STOP_AT(%rcx), %rax
        jae     .Lstop
        incq    %rax
        movq    %rax, BLOCKS(%rcx)
        movq    %rsi, BLOCK_ADDRESS(%rcx)
        movl    %edx, BLOCK_SIZE(%rcx)
        movq    CRASH_RECORD(%rcx), %r8
        testq   %r8, %r8
        jz      1f
        movq    %rsi, CR_RIP(%r8)
        movl    VCPU(%rcx), %eax
        movl    %eax, CR_VCPU(%r8)
        movb    $1, CR_SET(%r8)
1:      ret
.Lstop:
        movl    $1, STOPPED(%rcx)
        jmp     *UC_EMU_STOP(%rcx)              # tail call: rdi is still uc

.Lrecord:
        # Record page rax, then page r8 if it differs; last_page = rax if they are equal, else -1.
        movq    %rax, %r9
        call    .Lrecord_page
        cmpq    %r9, %r8
        je      2f
        movq    %r8, %rax
        call    .Lrecord_page
        movq    $-1, %r9
2:      movq    %r9, LAST_PAGE(%rcx)
        jmp     .Lcount

# Sets page rax's bit; appends it to the fresh list the first time. Clobbers rax, r10, r11.
.Lrecord_page:
        cmpq    RAM_PAGES(%rcx), %rax
        jae     3f
        movq    %rax, %r10
        shrq    $6, %r10
        shlq    $3, %r10
        addq    RECORDED(%rcx), %r10            # r10 = &recorded[page / 64]
        movq    (%r10), %r11
        btsq    %rax, %r11                      # bit page % 64; CF = it was set
        jc      3f
        movq    %r11, (%r10)
        movl    FRESH_COUNT(%rcx), %r11d
        cmpl    FRESH_CAP(%rcx), %r11d
        jae     4f
        movq    FRESH(%rcx), %r10
        movq    %rax, (%r10,%r11,8)
        incl    %r11d
        movl    %r11d, FRESH_COUNT(%rcx)
3:      ret
4:      movl    $1, FRESH_OVERFLOW(%rcx)
        ret
        .size   tickvm_block_hook, .-tickvm_block_hook

        .section .note.GNU-stack,"",@progbits
