package dev.imans.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What {@link PolicyMatcher#match} needs of a policy before it looks at any rule, made once per policy:
 * the actions some rule can grant ({@code ima_get_action}'s mask), and for each (hook, file) the rules
 * whose hook and file conditions (filesystem, owner, group) hold there, in policy order. A rule left out
 * could not match any access of that hook to such a file, so walking only the rest gives the same
 * result as walking them all, as the kernel does: a policy of a thousand rules costs an open the few
 * rules that can concern its file. Files are told apart only by the facts those conditions test, so
 * the keys are few (filesystems times owners).
 */
final class RuleIndex {
    /** Distinct (hook, file facts) keys kept; past this the cache starts again (a host with many owners). */
    private static final int MAX_KEYS = 4096;

    private final Rule[] rules;
    private final int grantable;
    private final ConcurrentHashMap<Key, Rule[]> byFile = new ConcurrentHashMap<>();

    /** A hook and the file facts the index sorts by. */
    private record Key(Func func, long magic, String name, UUID uuid, long owner, long group) {}

    RuleIndex(List<Rule> rules) {
        this.rules = rules.toArray(Rule[]::new);
        int flags = 0;
        for (Rule r : rules) {
            if (r.func() != Func.SETXATTR_CHECK && r.action().isDo()) {
                flags |= r.action().bit();
            }
        }
        this.grantable = flags;
    }

    /** The {@code do} actions some rule (SETXATTR_CHECK rules aside) can grant. */
    int grantable() {
        return grantable;
    }

    /** The rules that may match an access with these facts, in policy order. */
    Rule[] candidates(AccessFacts f) {
        Func func = f.func();
        if (func == Func.POST_SETATTR || func == Func.KEY_CHECK || func == Func.CRITICAL_DATA) {
            return rules; // these bypass or replace the file conditions: nothing to sort by
        }
        FileFacts file = f.file();
        Key key = new Key(func, file.fsMagic(), file.fsName(), file.fsUuid(), file.owner(), file.group());
        Rule[] known = byFile.get(key);
        if (known != null) {
            return known;
        }
        List<Rule> out = new ArrayList<>();
        for (Rule r : rules) {
            if (r.func() != Func.SETXATTR_CHECK && (!r.hasFunc() || r.func() == func)
                    && PolicyMatcher.fileConditionsHold(r, file)) {
                out.add(r);
            }
        }
        Rule[] made = out.toArray(Rule[]::new);
        if (byFile.size() >= MAX_KEYS) {
            byFile.clear();
        }
        byFile.putIfAbsent(key, made);
        return made;
    }
}
