package dev.tickvm.tools;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "images", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Lists the guest images built into tickvm (sources in guest-images/src/main/guest).",
        footer = {"", "Examples:",
            "  ./tickvm images",
            "  ./tickvm run --image probe      (any listed name works with run --image)"})
final class ImagesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.printf("%-22s %6s %5s  %s%n", "NAME", "BYTES", "VCPUS", "DESCRIPTION");
        for (GuestImage image : GuestImages.catalogue()) {
            System.out.printf("%-22s %6d %5d  %s%n", image.name(), image.size(), image.defaultVcpus(),
                    image.description());
        }
        System.out.printf("%nAll load and start at 0x%x.%n", GuestImages.DEFAULT_LOAD_ADDRESS);
        return 0;
    }
}
