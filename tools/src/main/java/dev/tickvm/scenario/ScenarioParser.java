package dev.tickvm.scenario;

import dev.tickvm.cpu.BootLayout;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmRequest;
import dev.tickvm.vm.RestoreStrategy;
import dev.tickvm.kvm.Errno;
import dev.tickvm.kvm.Msr;
import dev.tickvm.kvm.Pvclock;
import dev.tickvm.kvm.PvclockMode;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.lab.Lab;
import dev.tickvm.machine.Machine;
import dev.tickvm.scenario.ScenarioSyntaxException.SyntaxError;
import dev.tickvm.scenario.Statement.Cpu;
import dev.tickvm.scenario.Statement.GuestOp;
import dev.tickvm.scenario.Statement.Step;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a whole scenario file before anything runs, and reports every line that does not parse
 * with its line and column. Besides the grammar it checks what can be checked without running:
 * variables bound before use, one VM declared before the steps that need it, hosts defined
 * before the VM names them, vCPU indexes and literal settings in range. The grammar is in
 * docs/SCENARIOS.md.
 */
final class ScenarioParser {

    /** Every command word, for "unknown command" suggestions. */
    static final List<String> COMMANDS = List.of("host", "vm", "advance", "host-tsc", "host-ns", "host-realtime",
            "host-raw", "host-tai", "true-ns", "set-host", "set-vm", "get-vm", "set-tsc-khz", "get-tsc-khz", "set-msr", "get-msr", "set-attr", "get-attr", "get-vcpu",
            "get-clock", "set-clock", "enable-kvmclock", "get-pvclock", "kvmclock-ctrl", "pause", "resume", "save", "restore", "migrate", "run", "guest",
            "let", "expect", "expect-error", "print", "repeat", "for", "sample");

    /** The commands that set up the run or compute: they never fail the KVM way, and need no VM. */
    private static final List<String> SCRIPT_COMMANDS = List.of("host", "vm", "let", "expect", "expect-error", "print",
            "repeat", "for");

    /** The steps that happen once in a run or change what later lines may do: never inside a loop. */
    private static final List<String> NOT_IN_LOOPS = List.of("host", "vm", "pause", "resume", "save", "restore",
            "migrate");

    /** How deep loops may nest. */
    static final int MAX_LOOP_DEPTH = 4;

    /**
     * How deep parentheses may nest, and how many operators (binary, unary minus, ~) one line may
     * hold: the parser and the evaluator recurse, so a hostile line (1,500 nested parentheses,
     * 10,000 '+' or 100,000 '-') must be refused with a line:column error, not overflow the stack.
     */
    static final int MAX_PAREN_DEPTH = 64;
    static final int MAX_OPERATORS = 1_000;

    /** Steps that need the VM but cannot fail the KVM way either: not inside expect-error. */
    private static final List<String> RUN_STATE_COMMANDS = List.of("pause", "resume", "save", "restore", "migrate",
            "sample");

    /** The steps that run the guest: not while the VM is paused. */
    private static final List<String> GUEST_COMMANDS = List.of("guest", "enable-kvmclock", "run");

    /**
     * Names with a fixed value, usable in any expression and never rebound: the flags of
     * struct kvm_clock_data (KVM_GET_CLOCK / KVM_SET_CLOCK), under Linux's names and short ones,
     * and the flag bits of the pvclock page, which are other numbers.
     */
    static final Map<String, Long> CONSTANTS = constants();

    /** How the guest's kvmclock read treats the TSC_STABLE bit, by the words scenarios use. */
    static final Map<String, Lab.ReadMode> READ_MODES = Map.of("trust", Lab.ReadMode.TRUST_STABLE,
            "clamp", Lab.ReadMode.ALWAYS_CLAMP, "raw", Lab.ReadMode.RAW);
    private static final List<String> READ_MODE_WORDS = List.of("trust", "clamp", "raw");
    /** The word scenarios use for a read mode. */
    static String readModeWord(Lab.ReadMode mode) {
        return READ_MODES.entrySet().stream().filter(e -> e.getValue() == mode).findFirst().orElseThrow().getKey();
    }

    /** watch-start's first word: the TSC only, or the TSC and kvmclock read in that mode. */
    private static final List<String> WATCH_MODE_WORDS = List.of("tsc", "trust", "clamp", "raw");

    static final Map<String, PvclockMode> PVCLOCK_MODES = Map.of("kvm-compat", PvclockMode.KVM_COMPAT,
            "exact", PvclockMode.EXACT);

    /** MSRs by the names scenarios may use (Linux's, with or without the MSR_ prefix). */
    static final Map<String, Integer> MSRS = msrNames();

    static final Map<String, Integer> ATTRIBUTES = Map.of("tsc-offset", TscAttribute.TSC_OFFSET,
            "tsc-value", TscAttribute.TSC_VALUE, "tsc-scale", TscAttribute.TSC_SCALE);

    static final List<String> HOST_SETTINGS = List.of("tsc-khz", "tsc-hz", "crystal-ppm", "crystal-ppb", "frac-bits",
            "stable", "tsc-scaling", "tsc-at-boot", "boot-epoch", "ntp-offset", "ntp-slew-ppb", "realtime-error",
            "tai-offset", "ns-per-block", "ns-per-exit");
    /** The host settings that take yes or no. */
    private static final List<String> HOST_FLAGS = List.of("stable", "tsc-scaling");
    /** What set-host may change while the host runs: its NTP errors. */
    static final List<String> HOST_RUNTIME_SETTINGS = List.of("ntp-offset", "ntp-slew-ppb");
    static final List<String> VM_SET_KEYS = List.of("tsc-khz", "pvclock-mode");
    static final List<String> VM_GET_KEYS = List.of("tsc-khz", "tsc-generation", "vcpus-matched", "master-clock",
            "use-master-clock", "kvmclock-offset", "clock-update-due", "clock-sync-due");
    static final List<String> VCPU_KEYS = List.of("tsc-generation", "tsc-ratio", "pvclock-hz", "pending-requests",
            "tsc-catchup", "has-run");

    /** A frequency with its unit: digits, an optional decimal fraction, Hz kHz MHz or GHz. */
    private static final Pattern FREQUENCY = Pattern.compile("([0-9][0-9_]*)(?:\\.([0-9][0-9_]*))?(Hz|kHz|MHz|GHz)");
    private static final Pattern DECIMAL = Pattern.compile("([0-9][0-9_]*)(ns|us|ms|s)?");
    private static final Pattern HEX = Pattern.compile("0[xX]([0-9a-fA-F_]+)");
    private static final Pattern BINARY = Pattern.compile("0[bB]([01_]+)");
    private static final Pattern LENIENT_LET = Pattern.compile("^\\s*let\\s+([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern LENIENT_FIRST_WORDS =
            Pattern.compile("^\\s*([A-Za-z][A-Za-z0-9_-]*)\\s*([A-Za-z_][A-Za-z0-9_]*)?");
    private static final Pattern LENIENT_WATCH = Pattern.compile("^\\s*guest\\s+([0-9]+)\\s+watch-(start|stop)\\b");

    private final String file;
    private final List<SyntaxError> errors = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    /** Variables some earlier statement binds. */
    private final Set<String> bound = new HashSet<>();
    private final Set<String> hosts = new HashSet<>();
    /** Snapshot names saved by earlier lines. */
    private final Set<String> saved = new HashSet<>();
    private int vmLine;
    /** The line of the 'pause' in effect, or 0 while the VM runs. */
    private int pausedLine;
    /** vCPUs running a watch, with the line of their 'watch-start'. */
    private final Map<Integer, Integer> watching = new LinkedHashMap<>();
    private int lineNumber;

    private Cursor cur;
    /** Open parentheses around the expression being read, and operators read so far on this line. */
    private int parenDepth;
    private int operators;
    /** How many statements the file has so far, loop bodies included: the next step's number - 1. */
    private int statements;

    /** A loop whose body is being read: its header, and the steps of its body so far. */
    private static final class Frame {
        final Step header;
        final String variable;
        final int braceColumn;
        final String source;
        final List<Step> body = new ArrayList<>();

        Frame(Step header, String variable, int braceColumn, String source) {
            this.header = header;
            this.variable = variable;
            this.braceColumn = braceColumn;
            this.source = source;
        }
    }

    /** The loops open at this line, innermost last; a header that did not parse has a null header. */
    private final List<Frame> frames = new ArrayList<>();

    private ScenarioParser(String file) {
        this.file = file;
    }

    /** Parses {@code text}; {@code file} is the name used in messages. */
    static Scenario parse(String file, String text) throws ScenarioSyntaxException {
        ScenarioParser parser = new ScenarioParser(file);
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            parser.parseLine(lines[i], i + 1);
        }
        for (int i = parser.frames.size() - 1; i >= 0; i--) {
            Frame open = parser.frames.get(i);
            int line = open.header == null ? 0 : open.header.line();
            if (open.header != null) {
                parser.errors.add(new SyntaxError(file, line, open.braceColumn, "this loop's '{' is never closed: put"
                        + " a '}' line after its body", open.source));
            }
        }
        parser.errors.sort(Comparator.comparingInt(SyntaxError::line));
        if (!parser.errors.isEmpty()) {
            throw new ScenarioSyntaxException(parser.errors);
        }
        return new Scenario(file, parser.steps);
    }

    // ---- lines and statements -----------------------------------------------------------------

    private void parseLine(String source, int lineNumber) {
        this.lineNumber = lineNumber;
        cur = new Cursor(source);
        parenDepth = 0;
        operators = 0;
        cur.skipSpaces();
        if (cur.atEnd()) {
            return;
        }
        int start = cur.pos;
        try {
            if (cur.accept("}")) {
                closeLoop(start + 1);
                cur.expectEnd();
                return;
            }
            String kind = cur.peekWord();
            Statement statement = statement(false);
            if (statement instanceof Statement.Loop loop) {
                cur.skipSpaces();
                int brace = cur.column();
                if (!cur.accept("{")) {
                    throw new Fail(brace, "expected '{' at the end of the " + kind + " line, got '" + cur.peekToken()
                            + "' (the body goes on the next lines, up to a '}' line)");
                }
                cur.expectEnd();
                String text = source.substring(start, brace - 1).strip();
                Step header = new Step(++statements, lineNumber, text, kind, loop);
                frames.add(new Frame(header, loop.variable(), brace, source));
                if (loop.variable() != null) {
                    bound.add(loop.variable());
                }
                return;
            }
            cur.expectEnd();
            String text = source.substring(start, cur.end).strip();
            steps().add(new Step(++statements, lineNumber, text, kind, statement));
            recordBindings(statement);
        } catch (Fail f) {
            errors.add(new SyntaxError(file, lineNumber, f.column, f.getMessage(), source));
            recoverFrom(source.substring(0, cur.end), lineNumber);
        }
    }

    /** Where the current line's step goes: the file's steps, or the innermost loop's body. */
    private List<Step> steps() {
        return frames.isEmpty() ? steps : frames.getLast().body;
    }

    /** A '}' line: the innermost loop is complete and becomes one step of what encloses it. */
    private void closeLoop(int column) {
        if (frames.isEmpty()) {
            throw new Fail(column, "'}' without a loop to close");
        }
        Frame frame = frames.removeLast();
        if (frame.variable != null) {
            bound.remove(frame.variable);
        }
        if (frame.header != null) {
            Statement.Loop loop = (Statement.Loop) frame.header.statement();
            Step h = frame.header;
            steps().add(new Step(h.number(), h.line(), h.text(), h.kind(),
                    new Statement.Loop(loop.variable(), loop.count(), loop.from(), loop.to(), frame.body)));
        }
    }

    /** {@code repeat N} or {@code for NAME in A..B}, before its '{': a loop with no body yet. */
    private Statement loop(String word, int column) {
        if (frames.size() >= MAX_LOOP_DEPTH) {
            throw new Fail(column, "loops nest at most " + MAX_LOOP_DEPTH + " deep (this one would be the "
                    + (frames.size() + 1) + "th)");
        }
        if (word.equals("repeat")) {
            cur.skipSpaces();
            if (cur.atEnd() || cur.startsWith("{")) {
                throw new Fail(cur.column(), "missing count: repeat N {");
            }
            return new Statement.Loop(null, expression(), null, null, List.of());
        }
        String usage = "for NAME in FROM..TO {";
        cur.skipSpaces();
        int nameColumn = cur.column();
        String name = cur.identifier();
        if (name == null) {
            throw new Fail(nameColumn, "missing loop variable: " + usage);
        }
        checkNotConstant(name, nameColumn);
        checkNotLoopVariable(name, nameColumn);
        if (bound.contains(name) || name.equals("_")) {
            throw new Fail(nameColumn, "loop variable '" + name + "' is already a variable: choose another name");
        }
        cur.skipSpaces();
        int inColumn = cur.column();
        if (!"in".equals(cur.word())) {
            cur.reset(inColumn);
            throw new Fail(inColumn, "expected 'in' after 'for " + name + "': " + usage);
        }
        cur.skipSpaces();
        if (cur.atEnd()) {
            throw new Fail(cur.column(), "missing range: " + usage);
        }
        Expr from = expression();
        cur.skipSpaces();
        if (!cur.accept("..")) {
            throw new Fail(cur.column(), "expected '..' in the range, got '" + cur.peekToken() + "': " + usage);
        }
        cur.skipSpaces();
        if (cur.atEnd() || cur.startsWith("{")) {
            throw new Fail(cur.column(), "missing end of the range after '..': " + usage);
        }
        Expr to = expression();
        return new Statement.Loop(name, null, from, to, List.of());
    }

    /** What sample can read: the host-side reads, by their command words. */
    static final List<String> SAMPLE_SOURCES = List.of("host-tsc", "host-ns", "host-raw", "host-realtime", "host-tai",
            "true-ns", "get-clock", "get-msr", "get-vcpu", "get-attr");

    /** {@code sample SOURCE[, SOURCE...] every DURATION for DURATION -> FILE}. */
    private Statement sample() {
        String usage = "sample SOURCE[, SOURCE ...] every DURATION for DURATION -> FILE";
        List<String> columns = new ArrayList<>();
        List<Statement> sources = new ArrayList<>();
        do {
            cur.skipSpaces();
            int column = cur.column();
            if (cur.atEnd()) {
                throw new Fail(column, "missing sample source (" + String.join(", ", SAMPLE_SOURCES) + "): " + usage);
            }
            String word = cur.word();
            if (word == null || !SAMPLE_SOURCES.contains(word)) {
                throw new Fail(column, unknown("sample source", word == null ? cur.peekToken() : word,
                        SAMPLE_SOURCES));
            }
            switch (word) {
                case "get-clock" -> {
                    columns.add("clock");
                    sources.add(new Statement.GetClock(List.of()));
                }
                case "get-msr", "get-vcpu", "get-attr" -> {
                    String sourceUsage = switch (word) {
                        case "get-msr" -> "get-msr CPU MSR";
                        case "get-vcpu" -> "get-vcpu CPU KEY";
                        default -> "get-attr CPU ATTRIBUTE";
                    };
                    cur.skipSpaces();
                    int cpuColumn = cur.column();
                    Cpu cpu = cpu(sourceUsage);
                    if (cpu.all()) {
                        throw new Fail(cpuColumn, "a sample source reads one vCPU; give its index, not 'all'");
                    }
                    Statement read = switch (word) {
                        case "get-msr" -> new Statement.GetVcpu(Statement.Getter.MSR, cpu, msr(sourceUsage), null,
                                List.of());
                        case "get-vcpu" -> new Statement.GetVcpu(Statement.Getter.VCPU_STATE, cpu, 0,
                                key(VCPU_KEYS, "vCPU value", sourceUsage), List.of());
                        default -> new Statement.GetVcpu(Statement.Getter.ATTR, cpu, attribute(sourceUsage), null,
                                List.of());
                    };
                    Statement.GetVcpu g = (Statement.GetVcpu) read;
                    String what = switch (g.what()) {
                        case MSR -> msrName(g.selector());
                        case ATTR -> attributeName(g.selector());
                        default -> g.key();
                    };
                    columns.add("vcpu" + cpu.index() + "_" + what.replace('-', '_'));
                    sources.add(read);
                }
                default -> {
                    columns.add(word.replace('-', '_'));
                    sources.add(new Statement.HostRead(word.equals("true-ns") ? "true" : word.substring(5), List.of()));
                }
            }
            cur.skipSpaces();
        } while (cur.accept(","));
        keyword("every", usage);
        Expr every = term("a duration, e.g. 100ms", usage);
        keyword("for", usage);
        Expr duration = term("a duration, e.g. 10s", usage);
        cur.skipSpaces();
        if (!cur.accept("->")) {
            throw new Fail(cur.column(), cur.atEnd() ? "missing '-> FILE': " + usage
                    : "expected '-> FILE', got '" + cur.peekToken() + "': " + usage);
        }
        cur.skipSpaces();
        int fileColumn = cur.column();
        String name = fileName(usage);
        java.nio.file.Path scenario = java.nio.file.Path.of(file).toAbsolutePath().normalize();
        java.nio.file.Path parent = scenario.getParent();
        if (parent != null && parent.resolve(name).normalize().equals(scenario)) {
            throw new Fail(fileColumn, "sample would overwrite the scenario file itself; write the CSV to another file");
        }
        return new Statement.Sample(columns, sources, every, duration, name);
    }

    private void keyword(String word, String usage) {
        cur.skipSpaces();
        int column = cur.column();
        if (!word.equals(cur.word())) {
            cur.reset(column);
            throw new Fail(column, "expected '" + word + "', got '" + cur.peekToken() + "': " + usage);
        }
    }

    private void checkNotLoopVariable(String name, int column) {
        for (Frame f : frames) {
            if (name.equals(f.variable)) {
                throw new Fail(column, "'" + name + "' is the loop variable of line " + (f.header == null ? lineNumber
                        : f.header.line()) + ": the loop binds it; choose another name");
            }
        }
    }

    private static final Pattern LENIENT_LOOP = Pattern.compile("^\\s*(?:expect-error\\s+\\S+\\s+)?(repeat|for)\\b(?:\\s+([A-Za-z_][A-Za-z0-9_]*))?");

    /**
     * After an error, binds what the line would have bound and notes the VM or host it would
     * have declared, so one mistake does not cascade into errors on later, correct lines.
     */
    private void recoverFrom(String source, int lineNumber) {
        Matcher loop = LENIENT_LOOP.matcher(source);
        if (loop.find() && source.strip().endsWith("{")) {
            String variable = loop.group(1).equals("for") && loop.group(2) != null && !bound.contains(loop.group(2))
                    ? loop.group(2) : null;
            frames.add(new Frame(null, variable, 0, source));
            if (variable != null) {
                bound.add(variable);
            }
            return;
        }
        Matcher let = LENIENT_LET.matcher(source);
        if (let.find()) {
            bound.add(let.group(1));
        }
        int arrow = source.indexOf("->");
        if (arrow >= 0) {
            Arrays.stream(source.substring(arrow + 2).trim().split("\\s+"))
                    .filter(w -> w.matches("[A-Za-z_][A-Za-z0-9_]*")).forEach(bound::add);
        }
        Matcher watch = LENIENT_WATCH.matcher(source);
        if (watch.find() && watch.group(1).length() <= 2) {
            int vcpu = Integer.parseInt(watch.group(1));
            if (watch.group(2).equals("start")) {
                watching.putIfAbsent(vcpu, lineNumber);
            } else {
                watching.remove(vcpu);
            }
        }
        Matcher first = LENIENT_FIRST_WORDS.matcher(source);
        if (first.find()) {
            if (first.group(1).equals("vm") && vmLine == 0) {
                vmLine = lineNumber;
            } else if (first.group(1).equals("pause")) {
                pausedLine = lineNumber;
            } else if (first.group(1).equals("resume") || first.group(1).equals("restore")
                    || first.group(1).equals("migrate")) {
                pausedLine = 0;
            } else if (first.group(1).equals("host") && first.group(2) != null) {
                hosts.add(first.group(2));
            }
        }
    }

    private void recordBindings(Statement statement) {
        switch (statement) {
            case Statement.Let l -> bound.add(l.name());
            case Statement.HostRead r -> bindAll(r.targets());
            case Statement.GetVm g -> bindAll(g.targets());
            case Statement.GetVcpu g -> bindAll(g.targets());
            case Statement.Guest g -> bindAll(g.targets());
            case Statement.GetClock g -> bindAll(g.targets());
            case Statement.GetPvclock g -> bindAll(g.targets());
            default -> {
                // Binds nothing; expect-error's step is meant to fail, so its names stay unbound.
            }
        }
    }

    private void bindAll(List<String> names) {
        names.stream().filter(n -> !n.equals("_")).forEach(bound::add);
    }

    private Statement statement(boolean insideExpectError) {
        cur.skipSpaces();
        int column = cur.column();
        String word = cur.word();
        if (word == null) {
            throw new Fail(column, "expected a command, got '" + cur.peekToken() + "'");
        }
        if (insideExpectError && SCRIPT_COMMANDS.contains(word)) {
            throw new Fail(column, "expect-error needs a step that can fail (a control-plane, host or guest step),"
                    + " not '" + word + "'");
        }
        if (insideExpectError && RUN_STATE_COMMANDS.contains(word)) {
            throw new Fail(column, "expect-error needs a step that can fail (a control-plane, host or guest step),"
                    + " not '" + word + "'");
        }
        if (!frames.isEmpty() && NOT_IN_LOOPS.contains(word)) {
            throw new Fail(column, "'" + word + "' cannot go inside a loop (" + NOT_IN_LOOPS.stream().collect(
                    java.util.stream.Collectors.joining(", ")) + " happen once): put it before or after the loop");
        }
        if (!SCRIPT_COMMANDS.contains(word) && COMMANDS.contains(word) && vmLine == 0) {
            throw new Fail(column, "'" + word + "' needs the VM: put a 'vm ...' line before it");
        }
        if (GUEST_COMMANDS.contains(word) && pausedLine != 0) {
            throw new Fail(column, "the VM is paused (since line " + pausedLine + "): '" + word
                    + "' runs the guest; put 'resume' before it");
        }
        boolean required = !insideExpectError;
        return switch (word) {
            case "host" -> defineHost();
            case "vm" -> createVm(column);
            case "advance" -> new Statement.Advance(term("a duration, e.g. 1s or 500ms", "advance DURATION"));
            case "run" -> new Statement.RunGuest(term("a duration, e.g. 1s or 500ms", "run DURATION"));
            case "host-tsc", "host-ns", "host-realtime", "host-raw", "host-tai" -> new Statement.HostRead(
                    word.substring(5), targets(word, List.of(word.substring(5)), required));
            case "true-ns" -> new Statement.HostRead("true", targets(word, List.of("true"), required));
            case "set-host" -> setHost();
            case "set-vm" -> setVm();
            case "get-vm" -> {
                String key = key(VM_GET_KEYS, "VM value", "get-vm KEY -> NAME");
                yield new Statement.GetVm(key, targets(word, List.of(key), required));
            }
            case "set-tsc-khz" -> new Statement.SetVcpu(Statement.Setter.TSC_KHZ, cpu("set-tsc-khz CPU KHZ"), 0,
                    frequency(1000, "set-tsc-khz CPU KHZ"));
            case "get-tsc-khz" -> {
                Cpu cpu = cpu("get-tsc-khz CPU -> NAME");
                yield new Statement.GetVcpu(Statement.Getter.TSC_KHZ, cpu, 0, null,
                        targets(word, vcpuResults(cpu, "khz"), required));
            }
            case "set-msr" -> {
                Cpu cpu = cpu("set-msr CPU MSR VALUE");
                int msr = msr("set-msr CPU MSR VALUE");
                yield new Statement.SetVcpu(Statement.Setter.MSR, cpu, msr, term("a value", "set-msr CPU MSR VALUE"));
            }
            case "get-msr" -> {
                Cpu cpu = cpu("get-msr CPU MSR -> NAME");
                int msr = msr("get-msr CPU MSR -> NAME");
                yield new Statement.GetVcpu(Statement.Getter.MSR, cpu, msr, null,
                        targets(word, vcpuResults(cpu, "value"), required));
            }
            case "set-attr" -> {
                Cpu cpu = cpu("set-attr CPU ATTRIBUTE VALUE");
                int attribute = attribute("set-attr CPU ATTRIBUTE VALUE");
                yield new Statement.SetVcpu(Statement.Setter.ATTR, cpu, attribute,
                        term("a value", "set-attr CPU ATTRIBUTE VALUE"));
            }
            case "get-attr" -> {
                Cpu cpu = cpu("get-attr CPU ATTRIBUTE -> NAME");
                int attribute = attribute("get-attr CPU ATTRIBUTE -> NAME");
                yield new Statement.GetVcpu(Statement.Getter.ATTR, cpu, attribute, null,
                        targets(word, vcpuResults(cpu, "value"), required));
            }
            case "get-vcpu" -> {
                Cpu cpu = cpu("get-vcpu CPU KEY -> NAME");
                String key = key(VCPU_KEYS, "vCPU value", "get-vcpu CPU KEY -> NAME");
                yield new Statement.GetVcpu(Statement.Getter.VCPU_STATE, cpu, 0, key,
                        targets(word, vcpuResults(cpu, key), required));
            }
            case "get-clock" -> new Statement.GetClock(targets(word, List.of("clock", "flags", "realtime", "host_tsc"),
                    required));
            case "set-clock" -> setClock();
            case "enable-kvmclock" -> {
                cur.skipSpaces();
                int cpuColumn = cur.column();
                Cpu cpu = cpu("enable-kvmclock CPU|all");
                checkNotWatching(cpu, cpuColumn, "enable-kvmclock");
                yield new Statement.EnableKvmclock(cpu);
            }
            case "kvmclock-ctrl" -> new Statement.KvmclockCtrl(cpu("kvmclock-ctrl CPU|all"));
            case "get-pvclock" -> {
                cur.skipSpaces();
                int cpuColumn = cur.column();
                Cpu cpu = cpu("get-pvclock CPU -> VERSION [TSC_TIMESTAMP SYSTEM_TIME MUL SHIFT FLAGS]");
                if (cpu.all()) {
                    throw new Fail(cpuColumn, "get-pvclock reads one vCPU's page; give one vCPU index");
                }
                yield new Statement.GetPvclock(cpu, targets(word, List.of("version", "tsc_timestamp", "system_time",
                        "mul", "shift", "flags"), required));
            }
            case "save" -> {
                String name = fileName("save FILE");
                cur.expectEnd();
                saved.add(name);
                yield new Statement.Save(name);
            }
            case "restore" -> restore(column);
            case "migrate" -> migrate();
            case "pause" -> {
                if (pausedLine != 0) {
                    throw new Fail(column, "the VM is already paused (since line " + pausedLine + ")");
                }
                pausedLine = lineNumber;
                yield new Statement.RunState(true);
            }
            case "resume" -> {
                if (pausedLine == 0) {
                    throw new Fail(column, "resume without pause: the VM is running");
                }
                pausedLine = 0;
                yield new Statement.RunState(false);
            }
            case "guest" -> guest(required);
            case "let" -> let();
            case "expect" -> expect();
            case "expect-error" -> expectError();
            case "print" -> print();
            case "repeat", "for" -> loop(word, column);
            case "sample" -> sample();
            default -> throw new Fail(column, unknown("command", word, COMMANDS));
        };
    }

    private Statement defineHost() {
        cur.skipSpaces();
        int column = cur.column();
        String name = cur.identifier();
        if (name == null) {
            throw new Fail(column, "missing host name: host NAME [key=value ...]");
        }
        if (!hosts.add(name)) {
            throw new Fail(column, "host '" + name + "' is already defined");
        }
        Map<String, Expr> settings = new LinkedHashMap<>();
        while (!cur.atEndAfterSpaces()) {
            int keyColumn = cur.column();
            String key = cur.word();
            if (key == null || !HOST_SETTINGS.contains(key)) {
                throw new Fail(keyColumn, unknown("host setting", key == null ? cur.peekToken() : key, HOST_SETTINGS));
            }
            if (settings.containsKey(key)) {
                throw new Fail(keyColumn, "host setting '" + key + "' is given twice");
            }
            boolean crystal = key.startsWith("crystal-");
            if ((crystal || key.equals("tsc-hz")) && (settings.containsKey("tsc-hz")
                    || settings.containsKey("crystal-ppm") || settings.containsKey("crystal-ppb"))) {
                throw new Fail(keyColumn, "give the crystal's frequency once: tsc-hz, crystal-ppm or crystal-ppb");
            }
            if ((key.equals("ntp-offset") || key.equals("realtime-error"))
                    && (settings.containsKey("ntp-offset") || settings.containsKey("realtime-error"))) {
                throw new Fail(keyColumn, "realtime-error is another name for ntp-offset: give one of them");
            }
            equalsSign(key);
            cur.skipSpaces();
            Expr value;
            if (HOST_FLAGS.contains(key) && !cur.atEnd() && Character.isLetter(cur.peek())) {
                int valueColumn = cur.column();
                String yesNo = cur.word();
                value = switch (yesNo) {
                    case "yes", "true" -> new Expr.Literal(1);
                    case "no", "false" -> new Expr.Literal(0);
                    default -> throw new Fail(valueColumn, key + "= takes yes or no, got '" + yesNo + "'");
                };
            } else {
                value = key.equals("tsc-khz") ? frequency(1000, "host NAME tsc-khz=KHZ")
                        : key.equals("tsc-hz") ? frequency(1, "host NAME tsc-hz=HZ")
                        : term("a value", "host NAME " + key + "=VALUE");
            }
            settings.put(key, value);
        }
        return new Statement.DefineHost(name, settings);
    }

    /** A snapshot file name: everything up to the next space (or comment). */
    private String fileName(String usage) {
        cur.skipSpaces();
        int column = cur.column();
        int start = column - 1;
        StringBuilder name = new StringBuilder();
        while (!cur.atEnd() && !Character.isWhitespace(cur.peek())) {
            name.append(cur.peek());
            cur.reset(cur.column() + 1);
        }
        if (name.isEmpty()) {
            throw new Fail(column, "missing file name: " + usage);
        }
        if (name.indexOf("=") >= 0) {
            cur.reset(start + 1);
            throw new Fail(column, "missing file name before '" + name + "': " + usage);
        }
        return name.toString();
    }

    /**
     * {@code restore FILE [host=NAME] [strategy=S]}: a relative FILE must have been saved by an
     * earlier line of this file (it lives in the run's own directory).
     */
    private Statement restore(int column) {
        String usage = "restore FILE [host=NAME] [strategy=stop]";
        cur.skipSpaces();
        int fileColumn = cur.column();
        String name = fileName(usage);
        if (!java.nio.file.Path.of(name).isAbsolute() && !saved.contains(name)) {
            throw new Fail(fileColumn, "no 'save " + name + "' before this line: a relative snapshot name is one this"
                    + " scenario saved (give an absolute path for another file)");
        }
        String host = null;
        String strategy = "stop";
        Set<String> seen = new HashSet<>();
        while (!cur.atEndAfterSpaces()) {
            int keyColumn = cur.column();
            String key = cur.word();
            List<String> keys = List.of("host", "strategy");
            if (key == null || !keys.contains(key)) {
                throw new Fail(keyColumn, unknown("restore setting", key == null ? cur.peekToken() : key, keys));
            }
            if (!seen.add(key)) {
                throw new Fail(keyColumn, "restore setting '" + key + "' is given twice");
            }
            equalsSign(key);
            cur.skipSpaces();
            int valueColumn = cur.column();
            String value = cur.word();
            if (value == null) {
                throw new Fail(valueColumn, "missing value after " + key + "=");
            }
            if (key.equals("host")) {
                if (!hosts.contains(value)) {
                    throw new Fail(valueColumn, "unknown host '" + value + "': define it first with 'host " + value + " ...'");
                }
                host = value;
            } else {
                List<String> names = RestoreStrategy.all().stream().map(RestoreStrategy::name).toList();
                if (!names.contains(value)) {
                    throw new Fail(valueColumn, unknown("restore strategy", value, names));
                }
                strategy = value;
            }
        }
        // The restored VM runs: whatever pause was in effect ended with the VM it paused.
        pausedLine = 0;
        return new Statement.Restore(name, host, strategy);
    }

    /** {@code migrate to=HOST [strategy=S] [downtime=D] [stagger=T]}. */
    private Statement migrate() {
        String to = null;
        String strategy = "stop";
        Expr downtime = new Expr.Literal(0);
        Expr stagger = new Expr.Literal(0);
        Set<String> seen = new HashSet<>();
        List<String> keys = List.of("to", "strategy", "downtime", "stagger");
        while (!cur.atEndAfterSpaces()) {
            int keyColumn = cur.column();
            String key = cur.word();
            if (key == null || !keys.contains(key)) {
                throw new Fail(keyColumn, unknown("migrate setting", key == null ? cur.peekToken() : key, keys));
            }
            if (!seen.add(key)) {
                throw new Fail(keyColumn, "migrate setting '" + key + "' is given twice");
            }
            equalsSign(key);
            cur.skipSpaces();
            int valueColumn = cur.column();
            switch (key) {
                case "to" -> {
                    to = cur.identifier();
                    if (to == null || !hosts.contains(to)) {
                        throw new Fail(valueColumn, to == null ? "missing host name after to="
                                : "unknown host '" + to + "': define it first with 'host " + to + " ...'");
                    }
                }
                case "strategy" -> {
                    String value = cur.word();
                    List<String> names = RestoreStrategy.all().stream().map(RestoreStrategy::name).toList();
                    if (value == null || !names.contains(value)) {
                        throw new Fail(valueColumn, unknown("restore strategy", value == null ? cur.peekToken() : value,
                                names));
                    }
                    strategy = value;
                }
                case "downtime" -> downtime = term("a duration", "migrate ... downtime=D");
                default -> stagger = term("a duration", "migrate ... stagger=T");
            }
        }
        if (to == null) {
            throw new Fail(cur.column(), "missing to=HOST: migrate to=HOST [strategy=S] [downtime=D] [stagger=T]");
        }
        pausedLine = 0;
        return new Statement.Migrate(to, strategy, downtime, stagger);
    }

    /** {@code set-host [NAME] ntp-offset=NS ntp-slew-ppb=PPB}: the host's NTP errors from now on. */
    private Statement setHost() {
        String usage = "set-host [NAME] ntp-offset=NS ntp-slew-ppb=PPB";
        cur.skipSpaces();
        int column = cur.column();
        String name = null;
        if (!cur.atEnd() && Character.isLetter(cur.peek())) {
            int save = cur.column();
            String word = cur.word();
            // A setting is key=value (keys have hyphens); a host name is a plain identifier.
            if (word == null || word.contains("-") || (!cur.atEnd() && cur.peek() == '=')) {
                cur.reset(save);
            } else {
                name = word;
                if (!hosts.contains(name)) {
                    throw new Fail(column, "unknown host '" + name + "': define it first with 'host " + name + " ...'");
                }
            }
        }
        Map<String, Expr> settings = new LinkedHashMap<>();
        while (!cur.atEndAfterSpaces()) {
            int keyColumn = cur.column();
            String key = cur.word();
            if (key == null || !HOST_RUNTIME_SETTINGS.contains(key)) {
                throw new Fail(keyColumn, unknown("set-host setting", key == null ? cur.peekToken() : key,
                        HOST_RUNTIME_SETTINGS));
            }
            if (settings.containsKey(key)) {
                throw new Fail(keyColumn, "set-host setting '" + key + "' is given twice");
            }
            equalsSign(key);
            cur.skipSpaces();
            settings.put(key, term("a value", usage));
        }
        if (settings.isEmpty()) {
            throw new Fail(cur.column(), "nothing to set: " + usage);
        }
        return new Statement.SetHost(name, settings);
    }

    private Statement createVm(int column) {
        if (vmLine != 0) {
            throw new Fail(column, "only one vm per file for now (the first is on line " + vmLine + ")");
        }
        String host = null;
        Expr vcpus = new Expr.Literal(1);
        Expr tscKhz = null;
        Expr quantum = null;
        boolean boot = true;
        Set<String> seen = new HashSet<>();
        while (!cur.atEndAfterSpaces()) {
            int keyColumn = cur.column();
            String key = cur.word();
            List<String> keys = List.of("host", "vcpus", "tsc-khz", "quantum", "boot");
            if (key == null || !keys.contains(key)) {
                throw new Fail(keyColumn, unknown("vm setting", key == null ? cur.peekToken() : key, keys));
            }
            if (!seen.add(key)) {
                throw new Fail(keyColumn, "vm setting '" + key + "' is given twice");
            }
            equalsSign(key);
            cur.skipSpaces();
            int valueColumn = cur.column();
            switch (key) {
                case "host" -> {
                    host = cur.identifier();
                    if (host == null) {
                        throw new Fail(valueColumn, "missing host name after host=");
                    }
                    if (!hosts.contains(host)) {
                        throw new Fail(valueColumn, "unknown host '" + host + "': define it first with 'host " + host
                                + " ...'");
                    }
                }
                case "vcpus" -> {
                    vcpus = term("a vCPU count", "vm vcpus=N");
                    checkLiteral(vcpus, valueColumn, 1, BootLayout.MAX_VCPUS, "vcpus");
                }
                case "quantum" -> {
                    quantum = term("a number of blocks", "vm quantum=BLOCKS");
                    checkLiteral(quantum, valueColumn, Machine.MIN_QUANTUM, Long.MAX_VALUE, "quantum");
                }
                case "boot" -> {
                    String yesNo = cur.word();
                    if (!"yes".equals(yesNo) && !"no".equals(yesNo)) {
                        throw new Fail(valueColumn, "boot= takes yes or no, got '" + (yesNo == null ? cur.peekToken()
                                : yesNo) + "'");
                    }
                    boot = yesNo.equals("yes");
                }
                default -> tscKhz = frequency(1000, "vm tsc-khz=KHZ");
            }
        }
        if (host == null && hosts.size() > 1) {
            throw new Fail(column, "several hosts are defined: say which one the VM runs on with host=NAME");
        }
        if (host == null && hosts.size() == 1) {
            host = hosts.iterator().next();
        }
        vmLine = lineNumber;
        return new Statement.CreateVm(host, vcpus, tscKhz, quantum, boot);
    }

    private Statement setVm() {
        String usage = "set-vm tsc-khz KHZ | set-vm pvclock-mode kvm-compat|exact";
        String key = key(VM_SET_KEYS, "VM setting", usage);
        if (key.equals("tsc-khz")) {
            return new Statement.SetVm(key, frequency(1000, "set-vm tsc-khz KHZ"), null);
        }
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd()) {
            throw new Fail(column, "missing pvclock mode (kvm-compat or exact): set-vm pvclock-mode kvm-compat|exact");
        }
        String mode = cur.word();
        if (mode == null || !PVCLOCK_MODES.containsKey(mode)) {
            throw new Fail(column, unknown("pvclock mode", mode == null ? cur.peekToken() : mode,
                    List.of("kvm-compat", "exact")));
        }
        return new Statement.SetVm(key, null, PVCLOCK_MODES.get(mode));
    }

    private Statement setClock() {
        String usage = "set-clock CLOCK [realtime=NS] [flags=FLAGS]";
        Expr clock = term("a kvmclock value in ns", usage);
        Map<String, Expr> settings = new LinkedHashMap<>();
        List<String> keys = List.of("realtime", "flags");
        while (!cur.atEndAfterSpaces()) {
            int keyColumn = cur.column();
            String key = cur.word();
            if (key == null || !keys.contains(key)) {
                if (cur.startsWith("->")) {
                    throw new Fail(keyColumn, "set-clock gives no value to bind");
                }
                if (key == null) {
                    throw unexpected();
                }
                throw new Fail(keyColumn, unknown("set-clock setting", key == null ? cur.peekToken() : key, keys));
            }
            if (settings.containsKey(key)) {
                throw new Fail(keyColumn, "set-clock setting '" + key + "' is given twice");
            }
            equalsSign(key);
            settings.put(key, term(key.equals("realtime") ? "a realtime in ns" : "a flags value",
                    "set-clock CLOCK " + key + "=VALUE"));
        }
        return new Statement.SetClock(clock, settings.get("realtime"), settings.get("flags"));
    }

    private Statement guest(boolean required) {
        cur.skipSpaces();
        int cpuColumn = cur.column();
        Cpu cpu = cpu("guest CPU COMMAND ...");
        cur.skipSpaces();
        int column = cur.column();
        String word = cur.word();
        List<String> ops = Arrays.stream(GuestOp.values()).map(o -> o.word).toList();
        if (word == null) {
            throw new Fail(column, "missing guest command (" + String.join(", ", ops) + ")");
        }
        GuestOp op = Arrays.stream(GuestOp.values()).filter(o -> o.word.equals(word)).findFirst()
                .orElseThrow(() -> new Fail(column, unknown("command", word, ops)));
        if (cpu.all() && op != GuestOp.SYNC && op != GuestOp.KVMCLOCK_SYNC) {
            throw new Fail(column, "only 'sync' and 'kvmclock-sync' run on all vCPUs at once; give '" + word
                    + "' one vCPU index");
        }
        boolean watchOp = op == GuestOp.WATCH_START || op == GuestOp.WATCH_STOP;
        if (watchOp && !frames.isEmpty()) {
            throw new Fail(column, "'" + word + "' cannot go inside a loop: start and stop a watch outside it");
        }
        if (watchOp && !required) {
            throw new Fail(column, "expect-error needs a step that can fail the KVM way or fault, not '" + word + "'");
        }
        if (op == GuestOp.WATCH_START && watching.containsKey(cpu.index())) {
            throw new Fail(column, "vCPU " + cpu.index() + " is already watching its clocks (since line "
                    + watching.get(cpu.index()) + "): 'guest " + cpu.index() + " watch-stop' first");
        }
        if (op == GuestOp.WATCH_STOP && !watching.containsKey(cpu.index())) {
            throw new Fail(column, "no watch runs on vCPU " + cpu.index() + ": 'guest " + cpu.index()
                    + " watch-start' first");
        }
        if (!watchOp) {
            checkNotWatching(cpu, cpuColumn, "guest " + (cpu.all() ? "all" : cpu.index()) + " " + word);
        }
        String usage = switch (op) {
            case RDTSC -> "guest CPU rdtsc -> TSC";
            case RDTSCP -> "guest CPU rdtscp -> TSC [AUX]";
            case RDMSR -> "guest CPU rdmsr MSR -> VALUE";
            case WRMSR -> "guest CPU wrmsr MSR VALUE";
            case CPUID -> "guest CPU cpuid LEAF [SUBLEAF] -> EAX [EBX ECX EDX]";
            case SPIN -> "guest CPU spin CYCLES -> FIRST [LAST]";
            case BATCH -> "guest CPU batch COUNT -> COUNT [MIN MAX REGRESSIONS]";
            case SYNC -> "guest CPU|all sync CYCLES -> REGRESSIONS [ITERATIONS LARGEST]";
            case KVMCLOCK -> "guest CPU kvmclock [trust|clamp|raw] -> NS [RETRIES FLAGS CLAMPED TSC]";
            case WALLCLOCK -> "guest CPU wallclock -> SEC [NSEC VERSION RETRIES]";
            case KVMCLOCK_SYNC -> "guest CPU|all kvmclock-sync READS [trust|clamp|raw] -> REGRESSIONS"
                    + " [CLAMPS LARGEST RETRIES]";
            case TORN_KVMCLOCK -> "guest CPU torn-kvmclock WRITER_CPU DELAY_CYCLES -> NS [RETRIES FLAGS CLAMPED TSC]";
            case WATCH_START -> "guest CPU watch-start [tsc|trust|clamp|raw] [THRESHOLD_NS]";
            case WATCH_STOP -> "guest CPU watch-stop -> TSC_JUMPS [TSC_BACKS TSC_MAX_STEP TSC_MAX_BACK KVMCLOCK_JUMPS"
                    + " KVMCLOCK_BACKS KVMCLOCK_MAX_STEP KVMCLOCK_MAX_BACK ROUNDS]";
        };
        int msr = op == GuestOp.RDMSR || op == GuestOp.WRMSR ? msr(usage) : 0;
        Cpu writer = null;
        if (op == GuestOp.TORN_KVMCLOCK) {
            cur.skipSpaces();
            int writerColumn = cur.column();
            writer = cpu(usage);
            if (writer.all()) {
                throw new Fail(writerColumn, "torn-kvmclock needs one writer vCPU, not 'all': " + usage);
            }
            if (writer.equals(cpu)) {
                throw new Fail(writerColumn, "the writer must be another vCPU than the reader (" + cpu
                        + "): the reader spins on its page until the writer fixes it");
            }
            checkNotWatching(writer, writerColumn, "guest " + cpu.index() + " torn-kvmclock");
        }
        Lab.ReadMode watchMode = null;
        if (op == GuestOp.WATCH_START && !cur.atEndAfterSpaces() && Character.isLetter(cur.peek())
                && WATCH_MODE_WORDS.contains(cur.peekWord())) {
            watchMode = READ_MODES.get(cur.word());
        }
        List<Expr> args = new ArrayList<>();
        for (int i = 0; i < op.maxArgs; i++) {
            if (i >= op.minArgs && (cur.atEndAfterSpaces() || cur.startsWith("->"))) {
                break;
            }
            args.add(term(switch (op) {
                case WRMSR -> "a value";
                case CPUID -> i == 0 ? "a leaf" : "a subleaf";
                case SPIN, SYNC -> "a number of TSC cycles";
                case KVMCLOCK_SYNC -> "a number of reads per vCPU";
                case TORN_KVMCLOCK -> "a delay in TSC cycles";
                case WATCH_START -> "a jump threshold in ns";
                default -> "a count";
            }, usage));
        }
        Lab.ReadMode mode = null;
        if (op == GuestOp.KVMCLOCK || op == GuestOp.KVMCLOCK_SYNC || op == GuestOp.TORN_KVMCLOCK) {
            mode = Lab.ReadMode.TRUST_STABLE;
            if (op != GuestOp.TORN_KVMCLOCK && !cur.atEndAfterSpaces() && !cur.startsWith("->")
                    && Character.isLetter(cur.peek())) {
                int modeColumn = cur.column();
                String modeWord = cur.word();
                if (!READ_MODES.containsKey(modeWord)) {
                    throw new Fail(modeColumn, unknown("kvmclock read mode", modeWord, READ_MODE_WORDS) + ": " + usage);
                }
                mode = READ_MODES.get(modeWord);
            }
        }
        if (op == GuestOp.WATCH_START) {
            mode = watchMode;
        }
        Statement.Guest guest = new Statement.Guest(op, cpu, msr, mode, writer, args,
                targets("guest " + word, op.results, required));
        if (op == GuestOp.WATCH_START) {
            watching.put(cpu.index(), lineNumber);
        } else if (op == GuestOp.WATCH_STOP) {
            watching.remove(cpu.index());
        }
        return guest;
    }

    /** A step that runs the guest on {@code cpu} would wait forever for a vCPU that is watching. */
    private void checkNotWatching(Cpu cpu, int column, String what) {
        Integer vcpu = cpu.index();
        if (cpu.all()) {
            vcpu = watching.keySet().stream().findFirst().orElse(null);
        }
        if (vcpu != null && watching.containsKey(vcpu)) {
            throw new Fail(column, "vCPU " + vcpu + " is watching its clocks (since line " + watching.get(vcpu)
                    + "): '" + what + "' needs it; put 'guest " + vcpu + " watch-stop' before it");
        }
    }

    private Statement let() {
        cur.skipSpaces();
        int column = cur.column();
        String name = cur.identifier();
        if (name == null) {
            throw new Fail(column, "missing variable name: let NAME = EXPRESSION");
        }
        if (name.equals("_")) {
            throw new Fail(column, "'_' only discards a result after '->'; let needs a name");
        }
        checkNotConstant(name, column);
        checkNotLoopVariable(name, column);
        cur.skipSpaces();
        if (!cur.accept("=") || cur.startsWith("=")) {
            throw new Fail(cur.column(), "expected '=' after 'let " + name + "'");
        }
        cur.skipSpaces();
        if (cur.atEnd()) {
            throw new Fail(cur.column(), "missing expression after '='");
        }
        return new Statement.Let(name, expression());
    }

    private static final List<String> COMPARISONS = List.of("==", "!=", "<=", ">=", "<", ">");

    private Statement expect() {
        cur.skipSpaces();
        if (cur.atEnd()) {
            throw new Fail(cur.column(), "missing expectation: expect A == B (or != < <= > >=)");
        }
        List<Expr> operands = new ArrayList<>();
        List<String> ops = new ArrayList<>();
        operands.add(expression());
        while (true) {
            cur.skipSpaces();
            String op = COMPARISONS.stream().filter(cur::startsWith).findFirst().orElse(null);
            if (op == null) {
                break;
            }
            cur.accept(op);
            cur.skipSpaces();
            if (cur.atEnd()) {
                throw new Fail(cur.column(), "unterminated expression after '" + op + "'");
            }
            ops.add(op);
            operands.add(expression());
        }
        if (ops.isEmpty()) {
            throw new Fail(cur.column(), cur.atEnd() ? "expect needs a comparison: == != < <= > >="
                    : "expected a comparison (== != < <= > >=), got '" + cur.peekToken() + "'");
        }
        Expr tolerance = null;
        cur.skipSpaces();
        int toleranceColumn = cur.column();
        if (cur.accept("+-") || cur.accept("±")) {
            if (ops.size() != 1 || !(ops.getFirst().equals("==") || ops.getFirst().equals("!="))) {
                throw new Fail(toleranceColumn, "a tolerance '+-' goes with a single == or != only");
            }
            cur.skipSpaces();
            if (cur.atEnd()) {
                throw new Fail(cur.column(), "missing tolerance after '+-'");
            }
            tolerance = expression();
        }
        return new Statement.Expect(operands, ops, tolerance);
    }

    private Statement expectError() {
        cur.skipSpaces();
        int column = cur.column();
        String word = cur.word();
        List<String> known = new ArrayList<>(Arrays.stream(Errno.values()).map(Enum::name).toList());
        known.add("fault");
        if (word == null) {
            throw new Fail(column, "missing error: expect-error ERRNO|fault STEP, e.g."
                    + " expect-error EINVAL set-tsc-khz 0 -1");
        }
        Errno errno = null;
        if (!word.equals("fault")) {
            errno = Arrays.stream(Errno.values()).filter(e -> e.name().equals(word)).findFirst()
                    .orElseThrow(() -> new Fail(column, unknown("error", word, known)));
        }
        cur.skipSpaces();
        if (cur.atEnd()) {
            throw new Fail(cur.column(), "missing step after 'expect-error " + word + "'");
        }
        int start = cur.pos;
        String kind = cur.peekWord();
        Statement inner = statement(true);
        cur.expectEnd();
        String text = cur.source.substring(start, cur.end).strip();
        return new Statement.ExpectError(errno, new Step(0, 0, text, kind, inner));
    }

    private Statement print() {
        Set<Integer> hex = new HashSet<>();
        List<Expr> values = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        do {
            cur.skipSpaces();
            if (cur.atEnd()) {
                throw new Fail(cur.column(), values.isEmpty() ? "missing value: print EXPRESSION [, EXPRESSION ...]"
                        : "unterminated expression after ','");
            }
            int start = cur.pos;
            values.add(expression());
            texts.add(cur.source.substring(start, cur.pos).strip());
            cur.skipSpaces();
            int column = cur.column();
            if (cur.accept(":")) {
                String format = cur.word();
                if (!"x".equals(format)) {
                    cur.reset(column + 1);
                    throw new Fail(column + 1, "unknown print format '" + (format == null ? cur.peekToken() : format)
                            + "' (':x' prints in hex)");
                }
                hex.add(texts.size() - 1);
                cur.skipSpaces();
            }
        } while (cur.accept(","));
        return new Statement.Print(values, texts, hex);
    }

    // ---- operands -----------------------------------------------------------------------------

    private Cpu cpu(String usage) {
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd() || cur.startsWith("->")) {
            throw new Fail(column, "missing vCPU index (a number such as 0, or 'all'): " + usage);
        }
        char c = cur.peek();
        if (Character.isDigit(c)) {
            String token = cur.numberToken();
            if (!token.matches("[0-9]+")) {
                throw new Fail(column, "bad vCPU index '" + token + "' (a number such as 0, or 'all')");
            }
            long index = token.length() > 6 ? Long.MAX_VALUE : Long.parseLong(token);
            if (index >= BootLayout.MAX_VCPUS) {
                throw new Fail(column, "vCPU index " + token + " is out of range (a VM has at most "
                        + BootLayout.MAX_VCPUS + " vCPUs): " + usage);
            }
            return new Cpu((int) index);
        }
        String word = cur.peekWord();
        if ("all".equals(word)) {
            cur.word();
            return Cpu.ALL;
        }
        throw new Fail(column, "missing vCPU index (a number such as 0, or 'all') before '" + cur.peekToken() + "': "
                + usage);
    }

    private int msr(String usage) {
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd() || cur.startsWith("->")) {
            throw new Fail(column, "missing MSR (a name such as IA32_TSC, or a number such as 0x10): " + usage);
        }
        if (Character.isDigit(cur.peek())) {
            String token = cur.numberToken();
            long value = number(token, column);
            if (value < 0 || value > 0xffff_ffffL) {
                throw new Fail(column, "MSR number " + token + " does not fit in 32 bits");
            }
            return (int) value;
        }
        String name = cur.word();
        if (name == null || !MSRS.containsKey(name)) {
            String shown = name == null ? cur.peekToken() : name;
            throw new Fail(column, unknown("MSR", shown, MSRS.keySet().stream().filter(n -> !n.startsWith("MSR_IA32")
                    && !n.equals("MSR_TSC_AUX") && !n.equals("IA32_TSC_AUX")).toList())
                    + "; or give its number, e.g. 0x10");
        }
        return MSRS.get(name);
    }

    private int attribute(String usage) {
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd() || cur.startsWith("->")) {
            throw new Fail(column, "missing attribute (tsc-offset, tsc-value, tsc-scale, or a number): " + usage);
        }
        if (Character.isDigit(cur.peek())) {
            String token = cur.numberToken();
            long value = number(token, column);
            if (value < 0 || value > Integer.MAX_VALUE) {
                throw new Fail(column, "attribute number " + token + " is out of range");
            }
            return (int) value;
        }
        String name = cur.word();
        if (name == null || !ATTRIBUTES.containsKey(name)) {
            throw new Fail(column, unknown("attribute", name == null ? cur.peekToken() : name,
                    List.of("tsc-offset", "tsc-value", "tsc-scale")) + "; or give its number");
        }
        return ATTRIBUTES.get(name);
    }

    private String key(List<String> keys, String what, String usage) {
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd() || cur.startsWith("->")) {
            throw new Fail(column, "missing " + what + " (" + String.join(", ", keys) + "): " + usage);
        }
        String word = cur.word();
        if (word == null || !keys.contains(word)) {
            throw new Fail(column, unknown(what, word == null ? cur.peekToken() : word, keys));
        }
        return word;
    }

    private void equalsSign(String key) {
        cur.skipSpaces();
        if (!cur.accept("=")) {
            throw new Fail(cur.column(), "expected '=' after '" + key + "'");
        }
    }

    /** The value names a get gives: one value, or the smallest and largest over all vCPUs. */
    private static List<String> vcpuResults(Cpu cpu, String single) {
        return cpu.all() ? List.of("min", "max") : List.of(single);
    }

    /**
     * {@code -> name...}: required when the step gives values (unless inside expect-error), never
     * more names than values; {@code _} skips one.
     */
    private List<String> targets(String command, List<String> results, boolean required) {
        cur.skipSpaces();
        int column = cur.column();
        if (!cur.accept("->")) {
            if (!cur.atEnd()) {
                throw unexpected();
            }
            if (required && !results.isEmpty()) {
                throw new Fail(column, "missing '->' target: " + command + " gives " + describe(results)
                        + "; bind it with '-> NAME'");
            }
            return List.of();
        }
        if (results.isEmpty()) {
            throw new Fail(column, command + " gives no value to bind");
        }
        int afterArrow = cur.column();
        List<String> names = new ArrayList<>();
        while (!cur.atEndAfterSpaces()) {
            int nameColumn = cur.column();
            String name = cur.identifier();
            if (name == null) {
                throw new Fail(nameColumn, "expected a variable name after '->', got '" + cur.peekToken() + "'");
            }
            if (names.size() == results.size()) {
                throw new Fail(nameColumn, command + " gives " + describe(results) + ", but " + (names.size() + 1)
                        + " names follow '->'");
            }
            checkNotConstant(name, nameColumn);
            checkNotLoopVariable(name, nameColumn);
            names.add(name);
        }
        if (names.isEmpty()) {
            throw new Fail(afterArrow, "missing variable name after '->'");
        }
        return names;
    }

    private static String describe(List<String> results) {
        return results.size() == 1 ? "a value (" + results.getFirst() + ")"
                : results.size() + " values (" + String.join(" ", results) + ")";
    }

    private static void checkNotConstant(String name, int column) {
        if (CONSTANTS.containsKey(name)) {
            throw new Fail(column, "'" + name + "' is a predefined constant (" + CONSTANTS.get(name)
                    + "); choose another name");
        }
    }

    private void checkLiteral(Expr value, int column, long min, long max, String what) {
        if (value instanceof Expr.Literal(long v) && (v < min || v > max)) {
            throw new Fail(column, what + " must be " + min + " to " + max + ", got " + v);
        }
    }

    // ---- expressions ----------------------------------------------------------------------------

    /**
     * Where a frequency goes: a number with a unit (2.5GHz, 1500MHz, 3_000_000kHz, 2_999_999_500Hz),
     * converted exactly, with integers only, to the key's unit ({@code unitHz} 1000 for kHz keys,
     * 1 for Hz); or, without a unit, an argument in the key's own unit as before.
     */
    private Expr frequency(long unitHz, String usage) {
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd() || !Character.isDigit(cur.peek())) {
            return term(unitHz == 1 ? "a frequency in Hz" : "a frequency in kHz", usage);
        }
        String token = cur.numberToken();
        Matcher m = FREQUENCY.matcher(token);
        if (!m.matches()) {
            cur.reset(column);
            return term(unitHz == 1 ? "a frequency in Hz" : "a frequency in kHz", usage);
        }
        String whole = m.group(1);
        String fraction = m.group(2) == null ? "" : m.group(2);
        if (whole.endsWith("_") || fraction.endsWith("_")) {
            throw new Fail(column, "bad frequency '" + token + "' (digits with _ separators, e.g. 2.5GHz or 3_000_000kHz)");
        }
        java.math.BigInteger scale = java.math.BigInteger.valueOf(switch (m.group(3)) {
            case "Hz" -> 1L;
            case "kHz" -> 1_000L;
            case "MHz" -> 1_000_000L;
            default -> 1_000_000_000L;
        });
        String fractionDigits = fraction.replace("_", "");
        java.math.BigInteger ten = java.math.BigInteger.TEN.pow(fractionDigits.length());
        // (whole * 10^digits + fraction) * unit / 10^digits, in Hz: exact or an error, never rounded.
        java.math.BigInteger scaled = new java.math.BigInteger(whole.replace("_", "") + fractionDigits).multiply(scale);
        java.math.BigInteger[] hz = scaled.divideAndRemainder(ten);
        if (hz[1].signum() != 0) {
            throw new Fail(column, "frequency " + token + " is not a whole number of Hz");
        }
        java.math.BigInteger[] inUnit = hz[0].divideAndRemainder(java.math.BigInteger.valueOf(unitHz));
        if (inUnit[1].signum() != 0) {
            throw new Fail(column, "frequency " + token + " is " + fmtHz(hz[0]) + " Hz, not a whole number of kHz"
                    + " (this key takes kHz: " + usage + ")");
        }
        if (inUnit[0].bitLength() > 63) {
            throw new Fail(column, "frequency " + token + " does not fit in a signed 64-bit value");
        }
        return new Expr.Literal(inUnit[0].longValueExact());
    }

    private static String fmtHz(java.math.BigInteger hz) {
        return String.format(java.util.Locale.ROOT, "%,d", hz);
    }

    /** An argument: a number, a variable, or a parenthesized expression, with an optional sign. */
    private Expr term(String what, String usage) {
        cur.skipSpaces();
        if (cur.atEnd() || cur.startsWith("->")) {
            throw new Fail(cur.column(), "missing " + what + ": " + usage);
        }
        return unary();
    }

    private Expr expression() {
        return or();
    }

    private Expr or() {
        Expr left = and();
        while (binaryOp("|")) {
            left = new Expr.Binary("|", left, operand("|", this::and));
        }
        return left;
    }

    private Expr and() {
        Expr left = shift();
        while (binaryOp("&")) {
            left = new Expr.Binary("&", left, operand("&", this::shift));
        }
        return left;
    }

    private Expr shift() {
        Expr left = additive();
        while (true) {
            if (binaryOp("<<")) {
                left = new Expr.Binary("<<", left, operand("<<", this::additive));
            } else if (binaryOp(">>")) {
                left = new Expr.Binary(">>", left, operand(">>", this::additive));
            } else {
                return left;
            }
        }
    }

    private Expr additive() {
        Expr left = multiplicative();
        while (true) {
            cur.skipSpaces();
            if (cur.startsWith("+-") || cur.startsWith("->")) {
                return left;
            }
            if (binaryOp("+")) {
                left = new Expr.Binary("+", left, operand("+", this::multiplicative));
            } else if (binaryOp("-")) {
                left = new Expr.Binary("-", left, operand("-", this::multiplicative));
            } else {
                return left;
            }
        }
    }

    private Expr multiplicative() {
        Expr left = unary();
        while (true) {
            String op = binaryOp("*") ? "*" : binaryOp("/") ? "/" : binaryOp("%") ? "%" : null;
            if (op == null) {
                return left;
            }
            left = new Expr.Binary(op, left, operand(op, this::unary));
        }
    }

    /** Consumes {@code op} if it comes next as a binary operator (not part of a longer one). */
    private boolean binaryOp(String op) {
        cur.skipSpaces();
        if (!cur.startsWith(op)) {
            return false;
        }
        String after = cur.source.substring(cur.pos + op.length(), Math.min(cur.end, cur.pos + op.length() + 1));
        boolean longer = switch (op) {
            case "|" -> after.equals("|");
            case "&" -> after.equals("&");
            case "<<", ">>" -> after.equals("=");
            default -> false;
        };
        if (longer || (op.equals("-") && after.equals(">"))) {
            return false;
        }
        cur.pos += op.length();
        return true;
    }

    private Expr operand(String after, java.util.function.Supplier<Expr> next) {
        if (++operators > MAX_OPERATORS) {
            throw new Fail(cur.column() - after.length(), "more than " + MAX_OPERATORS + " operators on one line; split the"
                    + " expression with let");
        }
        cur.skipSpaces();
        if (cur.atEnd()) {
            throw new Fail(cur.column(), "unterminated expression after '" + after + "'");
        }
        return next.get();
    }

    private Expr unary() {
        cur.skipSpaces();
        if (cur.startsWith("-") && !cur.startsWith("->")) {
            cur.pos++;
            Expr operand = operand("-", this::unary);
            return operand instanceof Expr.Literal(long v) ? new Expr.Literal(-v) : new Expr.Unary('-', operand);
        }
        if (cur.accept("~")) {
            return new Expr.Unary('~', operand("~", this::unary));
        }
        return primary();
    }

    private Expr primary() {
        cur.skipSpaces();
        int column = cur.column();
        if (cur.atEnd()) {
            throw new Fail(column, "unterminated expression");
        }
        char c = cur.peek();
        if (c == '(') {
            if (parenDepth == MAX_PAREN_DEPTH) {
                throw new Fail(column, "parentheses nest more than " + MAX_PAREN_DEPTH + " deep");
            }
            cur.pos++;
            cur.skipSpaces();
            if (cur.atEnd()) {
                throw new Fail(cur.column(), "unterminated expression: missing ')' for the '(' at column " + column);
            }
            parenDepth++;
            Expr inner = expression();
            parenDepth--;
            cur.skipSpaces();
            if (!cur.accept(")")) {
                throw new Fail(cur.column(), cur.atEnd()
                        ? "unterminated expression: missing ')' for the '(' at column " + column
                        : "expected ')' for the '(' at column " + column + ", got '" + cur.peekToken() + "'");
            }
            return inner;
        }
        if (Character.isDigit(c)) {
            return new Expr.Literal(number(cur.numberToken(), column));
        }
        String name = cur.identifier();
        if (name != null && CONSTANTS.containsKey(name)) {
            return new Expr.Literal(CONSTANTS.get(name));
        }
        if (name != null) {
            if (!bound.contains(name)) {
                throw new Fail(column, "unknown variable '" + name + "'" + (MSRS.containsKey(name)
                        ? " (an MSR name is not a value; read it with get-msr or guest CPU rdmsr)" : ""));
            }
            return new Expr.Variable(name);
        }
        throw new Fail(column, "expected a number, a variable or '(', got '" + cur.peekToken() + "'");
    }

    /**
     * A number as written: decimal (optionally with a unit, ns us ms s, giving nanoseconds), 0x
     * hex or 0b binary (their 64-bit pattern: 0xffff_ffff_ffff_ffff is -1), with _ separators.
     */
    private static long number(String token, int column) {
        String bad = "bad number '" + token + "'";
        String help = " (integers only: decimal, 0x hex or 0b binary, _ separators, units ns us ms s)";
        Matcher m;
        if ((m = HEX.matcher(token)).matches() || (m = BINARY.matcher(token)).matches()) {
            String digits = m.group(1);
            if (digits.startsWith("_") || digits.endsWith("_") || digits.replace("_", "").isEmpty()) {
                throw new Fail(column, bad + help);
            }
            int radix = token.charAt(1) == 'x' || token.charAt(1) == 'X' ? 16 : 2;
            try {
                return Long.parseUnsignedLong(digits.replace("_", ""), radix);
            } catch (NumberFormatException e) {
                throw new Fail(column, bad + ": more than 64 bits");
            }
        }
        if (FREQUENCY.matcher(token).matches()) {
            throw new Fail(column, "a frequency unit (Hz kHz MHz GHz) goes only where a frequency is expected:"
                    + " host tsc-khz= and tsc-hz=, vm tsc-khz=, set-tsc-khz, set-vm tsc-khz");
        }
        m = DECIMAL.matcher(token);
        if (!m.matches() || m.group(1).endsWith("_")) {
            throw new Fail(column, bad + help);
        }
        long value;
        try {
            value = Long.parseLong(m.group(1).replace("_", ""));
        } catch (NumberFormatException e) {
            throw new Fail(column, bad + ": does not fit in a signed 64-bit value");
        }
        long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
            case "ns" -> 1;
            case "us" -> 1_000;
            case "ms" -> 1_000_000;
            default -> 1_000_000_000;
        };
        try {
            return Math.multiplyExact(value, unit);
        } catch (ArithmeticException e) {
            throw new Fail(column, bad + ": does not fit in a signed 64-bit value");
        }
    }

    // ---- messages ---------------------------------------------------------------------------------

    /** "unknown command 'rdtscc' (did you mean 'rdtsc'?)", or the list of what is known. */
    static String unknown(String what, String word, List<String> known) {
        String closest = known.stream().min(Comparator.comparingInt(k -> distance(k, word))).orElse(null);
        if (closest != null && distance(closest, word) <= Math.max(1, Math.min(2, word.length() / 3))) {
            return "unknown " + what + " '" + word + "' (did you mean '" + closest + "'?)";
        }
        return "unknown " + what + " '" + word + "' (known: " + String.join(", ", known) + ")";
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    private Fail unexpected() {
        String token = cur.peekToken();
        String hint = token.startsWith("+") || token.startsWith("-") || token.startsWith("*") || token.startsWith("/")
                || token.startsWith("<<") || token.startsWith(">>") || token.startsWith("&") || token.startsWith("|")
                || token.startsWith("%")
                ? ": put arithmetic in an argument between parentheses, e.g. (64 * UNITY)" : "";
        return new Fail(cur.column(), "unexpected '" + token + "'" + hint);
    }

    private static Map<String, Integer> msrNames() {
        Map<String, Integer> names = new LinkedHashMap<>();
        names.put("IA32_TSC", Msr.IA32_TSC);
        names.put("IA32_TSC_ADJUST", Msr.IA32_TSC_ADJUST);
        names.put("TSC_AUX", Msr.TSC_AUX);
        names.put("MSR_KVM_WALL_CLOCK_NEW", Msr.KVM_WALL_CLOCK_NEW);
        names.put("MSR_KVM_SYSTEM_TIME_NEW", Msr.KVM_SYSTEM_TIME_NEW);
        names.put("MSR_KVM_WALL_CLOCK", Msr.KVM_WALL_CLOCK);
        names.put("MSR_KVM_SYSTEM_TIME", Msr.KVM_SYSTEM_TIME);
        // Linux's spellings of the first three.
        names.put("MSR_IA32_TSC", Msr.IA32_TSC);
        names.put("MSR_IA32_TSC_ADJUST", Msr.IA32_TSC_ADJUST);
        names.put("MSR_TSC_AUX", Msr.TSC_AUX);
        names.put("IA32_TSC_AUX", Msr.TSC_AUX);
        return names;
    }

    private static Map<String, Long> constants() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("TSC_STABLE", (long) ClockData.TSC_STABLE);
        c.put("REALTIME", (long) ClockData.REALTIME);
        c.put("HOST_TSC", (long) ClockData.HOST_TSC);
        c.put("KVM_CLOCK_TSC_STABLE", (long) ClockData.TSC_STABLE);
        c.put("KVM_CLOCK_REALTIME", (long) ClockData.REALTIME);
        c.put("KVM_CLOCK_HOST_TSC", (long) ClockData.HOST_TSC);
        c.put("PVCLOCK_TSC_STABLE_BIT", (long) Pvclock.TSC_STABLE_BIT);
        c.put("PVCLOCK_GUEST_STOPPED", (long) Pvclock.GUEST_STOPPED_BIT);
        for (KvmRequest r : KvmRequest.values()) {
            c.put("REQ_" + r.name(), (long) r.bit);
        }
        return java.util.Collections.unmodifiableMap(c);
    }

    /** The scenario name of an MSR number, e.g. IA32_TSC, or its hex number. */
    static String msrName(int msr) {
        return MSRS.entrySet().stream().filter(e -> e.getValue() == msr).map(Map.Entry::getKey).findFirst()
                .orElse(String.format("0x%x", msr & 0xffff_ffffL));
    }

    static String attributeName(int attribute) {
        return ATTRIBUTES.entrySet().stream().filter(e -> e.getValue() == attribute).map(Map.Entry::getKey)
                .sorted().findFirst().orElse(Integer.toString(attribute));
    }

    // ---- the cursor over one line -------------------------------------------------------------------

    /** A syntax error at a column of the current line. */
    private static final class Fail extends RuntimeException {
        final int column;

        Fail(int column, String message) {
            super(message, null, false, false);
            this.column = column;
        }
    }

    /** Reads one line; {@code end} is where its comment starts (or its length). */
    private final class Cursor {
        final String source;
        final int end;
        int pos;

        Cursor(String source) {
            this.source = source;
            int hash = source.indexOf('#');
            this.end = hash < 0 ? source.length() : hash;
        }

        int column() {
            return pos + 1;
        }

        /** Goes back to a column this cursor was at. */
        void reset(int column) {
            pos = column - 1;
        }

        void skipSpaces() {
            while (pos < end && Character.isWhitespace(source.charAt(pos))) {
                pos++;
            }
        }

        boolean atEnd() {
            return pos >= end;
        }

        boolean atEndAfterSpaces() {
            skipSpaces();
            return atEnd();
        }

        char peek() {
            return source.charAt(pos);
        }

        boolean startsWith(String s) {
            return source.startsWith(s, pos) && pos + s.length() <= end;
        }

        boolean accept(String s) {
            if (startsWith(s)) {
                pos += s.length();
                return true;
            }
            return false;
        }

        void expectEnd() {
            skipSpaces();
            if (!atEnd()) {
                throw unexpected();
            }
        }

        /** A command or key word: letters, digits, _ and inner hyphens (tsc-khz), or null. */
        String word() {
            int start = pos;
            if (pos < end && Character.isLetter(source.charAt(pos))) {
                pos++;
                while (pos < end) {
                    char c = source.charAt(pos);
                    if (Character.isLetterOrDigit(c) || c == '_') {
                        pos++;
                    } else if (c == '-' && pos + 1 < end && Character.isLetterOrDigit(source.charAt(pos + 1))) {
                        pos++;
                    } else {
                        break;
                    }
                }
            }
            return pos == start ? null : source.substring(start, pos);
        }

        String peekWord() {
            int saved = pos;
            skipSpaces();
            String w = word();
            pos = saved;
            return w;
        }

        /** A variable name: letters, digits and _, not starting with a digit; or null. */
        String identifier() {
            int start = pos;
            if (pos < end && (Character.isLetter(source.charAt(pos)) || source.charAt(pos) == '_')) {
                pos++;
                while (pos < end && (Character.isLetterOrDigit(source.charAt(pos)) || source.charAt(pos) == '_')) {
                    pos++;
                }
            }
            return pos == start ? null : source.substring(start, pos);
        }

        /** The characters of a number token, letters and all, so that "12x4" is one bad number. */
        String numberToken() {
            int start = pos;
            // A '.' belongs to the number (2.5GHz), but '..' is a range (for i in 1..5).
            while (pos < end && (Character.isLetterOrDigit(source.charAt(pos)) || source.charAt(pos) == '_'
                    || (source.charAt(pos) == '.' && !source.startsWith("..", pos)))) {
                pos++;
            }
            return source.substring(start, pos);
        }

        /** The next blank-separated chunk, for messages. */
        String peekToken() {
            int stop = pos;
            while (stop < end && !Character.isWhitespace(source.charAt(stop))) {
                stop++;
            }
            String token = source.substring(pos, stop);
            return token.length() > 24 ? token.substring(0, 24) + "..." : token;
        }
    }
}
