package dev.tickvm.cpu;

import dev.tickvm.unicorn.Unicorn;
import org.junit.jupiter.api.Test;

class TrapSelfTestTest {
    @Test
    void trapMechanismWorksOnLoadedUnicorn() {
        TrapSelfTest.ensure(Unicorn.get());
    }
}
