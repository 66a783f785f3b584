package dev.imans.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code /etc/imans/imans.conf}: the daemon's long options as {@code key = value} lines, read before the
 * command line, which wins for every option it gives. {@code #} starts a comment line; blank lines are
 * skipped. A flag takes {@code true} or {@code false}; a repeatable option ({@code key}) may appear on
 * several lines; a list option takes its usual comma-separated value. An unknown key is an error, so a
 * misspelt setting is never silently ignored.
 *
 * <p>Lines after a {@code [oci-hook]} header are the settings of {@code imans oci-hook}, which runtimes
 * run with an empty environment and fixed arguments: the file is where its options can come from
 * without touching the runtime's configuration. The daemon skips that section; the hook takes the
 * daemon's {@code control} unless its section names another.
 *
 * @param path where it was read from
 * @param settings each key's values, in file order
 * @param sections the settings under each {@code [name]} header
 */
record ConfigFile(Path path, Map<String, List<String>> settings, Map<String, Map<String, List<String>>> sections) {
    /** The file the daemon reads when {@code --config} is not given. */
    static final Path DEFAULT = Path.of("/etc/imans/imans.conf");
    /** Options that make no sense in the file. */
    private static final Set<String> COMMAND_LINE_ONLY = Set.of("config", "help", "version");
    /** The section of {@code imans oci-hook}. */
    static final String OCI_HOOK = "oci-hook";
    /** {@code --state} names one container's state: a fixed one in the file would give every container its pid. */
    static final Set<String> OCI_HOOK_COMMAND_LINE_ONLY = Set.of("state");
    /** Section names: anything else is a misspelling, refused like an unknown key. */
    private static final Set<String> SECTIONS = Set.of(OCI_HOOK);

    /** A malformed file or a setting the daemon does not know: the message names the file and line. */
    static final class ConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }

    /** Reads {@code path}; a missing file is empty unless {@code required}. */
    static ConfigFile read(Path path, boolean required) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            if (required) {
                throw new ConfigException(path + ": no such file");
            }
            return new ConfigFile(path, Map.of(), Map.of());
        } catch (IOException e) {
            throw new ConfigException(path + ": " + e.getMessage());
        }
        Map<String, List<String>> top = new LinkedHashMap<>();
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> settings = top;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("[")) {
                String name = line.endsWith("]") ? line.substring(1, line.length() - 1).strip() : "";
                if (!SECTIONS.contains(name)) {
                    throw new ConfigException(path + ":" + (i + 1) + ": unknown section '" + line + "' (known: ["
                            + OCI_HOOK + "])");
                }
                if (sections.containsKey(name)) {
                    throw new ConfigException(path + ":" + (i + 1) + ": section [" + name + "] given twice");
                }
                settings = new LinkedHashMap<>();
                sections.put(name, settings);
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(path + ":" + (i + 1) + ": expected 'key = value', got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (!key.matches("[a-z][a-z0-9-]*")) {
                throw new ConfigException(path + ":" + (i + 1) + ": '" + key + "' is not an option name (write it"
                        + " without the leading --)");
            }
            settings.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return new ConfigFile(path, top, sections);
    }

    /**
     * The settings of {@code imans oci-hook}: its section, with the daemon's {@code control} when the
     * section has none, since the hook must talk to the daemon this file configures.
     */
    ConfigFile ociHook() {
        Map<String, List<String>> hook = new LinkedHashMap<>(sections.getOrDefault(OCI_HOOK, Map.of()));
        if (!hook.containsKey("control") && settings.containsKey("control")) {
            hook.put("control", settings.get("control"));
        }
        return new ConfigFile(path, hook, Map.of());
    }

    /**
     * Checks the {@code [oci-hook]} section against the hook's options, so the daemon refuses a file
     * whose daemon setting was written below that header rather than skipping it.
     */
    void checkOciHook() throws ConfigException {
        CommandLine hook = new CommandLine(new OciHookCommand());
        try {
            ociHook().arguments(hook.getCommandSpec(), hook.parseArgs(), OCI_HOOK_COMMAND_LINE_ONLY);
        } catch (ConfigException e) {
            throw new ConfigException(e.getMessage() + " in section [" + OCI_HOOK + "] (the settings of imans"
                    + " oci-hook)");
        }
    }

    /** The arguments {@code spec} was called with, those before its own name (the parents') left out. */
    static List<String> ownArguments(CommandSpec spec) {
        List<String> all = spec.commandLine().getParseResult().originalArgs();
        return all.subList(spec.parent() == null ? 0 : all.indexOf(spec.name()) + 1, all.size());
    }

    /**
     * The settings as command-line arguments for {@code spec}, leaving out every option that
     * {@code given} (the command line) already sets.
     */
    List<String> arguments(CommandSpec spec, ParseResult given) throws ConfigException {
        return arguments(spec, given, Set.of());
    }

    /** As {@link #arguments(CommandSpec, ParseResult)}, refusing also the options in {@code commandLineOnly}. */
    List<String> arguments(CommandSpec spec, ParseResult given, Set<String> commandLineOnly) throws ConfigException {
        List<String> args = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : settings.entrySet()) {
            String key = e.getKey();
            OptionSpec option = COMMAND_LINE_ONLY.contains(key) || commandLineOnly.contains(key) ? null
                    : spec.findOption("--" + key);
            if (option == null || !option.longestName().equals("--" + key)) {
                throw new ConfigException(path + ": unknown setting '" + key + "'");
            }
            if (given.hasMatchedOption(option)) {
                continue;
            }
            List<String> values = e.getValue();
            if (values.size() > 1 && !option.isMultiValue()) {
                throw new ConfigException(path + ": '" + key + "' is set more than once");
            }
            for (String v : values) {
                if (option.arity().max() == 0) {
                    switch (v.toLowerCase(Locale.ROOT)) {
                        case "true", "yes", "on", "1" -> args.add("--" + key);
                        case "false", "no", "off", "0" -> { }
                        default -> throw new ConfigException(path + ": '" + key + "' takes true or false, not '"
                                + v + "'");
                    }
                } else {
                    if (v.isEmpty()) {
                        throw new ConfigException(path + ": '" + key + "' has no value");
                    }
                    args.add("--" + key + "=" + v);
                }
            }
        }
        return args;
    }

    /**
     * Parses the file's settings, then the command line's own arguments, into {@code copy} (a fresh
     * instance of the command): picocli converts and checks them as if typed. The reason when it
     * refuses them.
     */
    static java.util.Optional<String> parseInto(Object copy, picocli.CommandLine.Model.CommandSpec spec,
            List<String> fromFile) {
        picocli.CommandLine cl = new picocli.CommandLine(copy).setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOut(spec.commandLine().getOut());
        cl.setErr(spec.commandLine().getErr());
        List<String> args = new java.util.ArrayList<>(fromFile);
        args.addAll(ownArguments(spec));
        try {
            cl.parseArgs(args.toArray(String[]::new));
            return java.util.Optional.empty();
        } catch (picocli.CommandLine.ParameterException e) {
            return java.util.Optional.of(e.getMessage());
        }
    }
}
