package dev.tickvm.unicorn;

/** Unicorn's uc_err codes, in the order of unicorn.h (stable from 2.0.1 to 2.1.x). */
public enum UnicornError {
    OK, NOMEM, ARCH, HANDLE, MODE, VERSION, READ_UNMAPPED, WRITE_UNMAPPED, FETCH_UNMAPPED, HOOK,
    INSN_INVALID, MAP, WRITE_PROT, READ_PROT, FETCH_PROT, ARG, READ_UNALIGNED, WRITE_UNALIGNED,
    FETCH_UNALIGNED, HOOK_EXIST, RESOURCE, EXCEPTION, OVERFLOW, UNKNOWN;

    private static final UnicornError[] BY_CODE = values();

    static UnicornError of(int code) {
        return code >= 0 && code < BY_CODE.length - 1 ? BY_CODE[code] : UNKNOWN;
    }

    /** The C name, e.g. UC_ERR_READ_UNMAPPED. */
    public String cName() {
        return "UC_ERR_" + name();
    }

    /** True for the errors that mean the guest did something the CPU could not execute. */
    public boolean isGuestFault() {
        return switch (this) {
            case READ_UNMAPPED, WRITE_UNMAPPED, FETCH_UNMAPPED, INSN_INVALID, WRITE_PROT, READ_PROT, FETCH_PROT,
                 READ_UNALIGNED, WRITE_UNALIGNED, FETCH_UNALIGNED, EXCEPTION -> true;
            default -> false;
        };
    }
}
