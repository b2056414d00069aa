package dev.tickvm.cpu;

import dev.tickvm.unicorn.Unicorn;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrapSelfTestTest {
    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void trapMechanismWorksOnLoadedUnicorn(TrapMode mode) {
        TrapSelfTest.ensure(Unicorn.get(), mode);
    }
}
