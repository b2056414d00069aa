package dev.tickvm.tools;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Test helper run in a child JVM: calls {@link Main#execute} once per argument group (groups
 * separated by ";") in the same JVM, then prints "exit codes: a b ..." as its last line.
 */
final class TwoExecutions {
    private TwoExecutions() {
    }

    public static void main(String[] args) {
        List<Integer> codes = new ArrayList<>();
        List<String> group = new ArrayList<>();
        for (String arg : Arrays.asList(args)) {
            if (arg.equals(";")) {
                codes.add(Main.execute(group.toArray(String[]::new)));
                group.clear();
            } else {
                group.add(arg);
            }
        }
        codes.add(Main.execute(group.toArray(String[]::new)));
        System.out.println("exit codes: " + String.join(" ", codes.stream().map(String::valueOf).toList()));
    }
}
