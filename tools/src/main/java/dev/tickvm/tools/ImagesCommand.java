package dev.tickvm.tools;

import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "images", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Lists the guest images built into tickvm (sources in guest-images/src/main/guest).",
        footer = {"", "Examples:",
            "  ./tickvm images",
            "  ./tickvm images --json          the same, with load address, entry and expected exit code",
            "  ./tickvm run --image probe      (any listed name works with run --image)"})
final class ImagesCommand implements Callable<Integer> {
    @Option(names = "--json", description = "One JSON object instead of the table (docs/JSON.md).")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if (json) {
            Json.print(json(), System.out);
            return 0;
        }
        System.out.printf("%-22s %6s %5s  %s%n", "NAME", "BYTES", "VCPUS", "DESCRIPTION");
        for (GuestImage image : GuestImages.catalogue()) {
            System.out.printf("%-22s %6d %5d  %s%n", image.name(), image.size(), image.defaultVcpus(),
                    image.description());
        }
        System.out.printf("%nAll load and start at 0x%x.%n", GuestImages.DEFAULT_LOAD_ADDRESS);
        return 0;
    }

    static Map<String, Object> json() {
        Map<String, Object> m = Json.envelope("images");
        List<Map<String, Object>> images = new ArrayList<>();
        for (GuestImage image : GuestImages.catalogue()) {
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("name", image.name());
            i.put("bytes", image.size());
            i.put("vcpus", image.defaultVcpus());
            i.put("loadAddress", Json.unsigned(image.loadAddress()));
            i.put("entry", Json.unsigned(image.entry()));
            i.put("expectedExitCode", image.expectedExitCode().isPresent() ? image.expectedExitCode().getAsInt() : null);
            i.put("description", image.description());
            images.add(i);
        }
        m.put("images", images);
        return m;
    }
}
