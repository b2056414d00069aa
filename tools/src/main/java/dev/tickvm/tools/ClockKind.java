package dev.tickvm.tools;

import dev.tickvm.host.HostClock;
import dev.tickvm.host.RealClock;
import dev.tickvm.host.VirtualClock;

/** The host clock a command runs on. */
enum ClockKind {
    virtual, real;

    HostClock create() {
        return this == virtual ? new VirtualClock() : new RealClock();
    }
}
