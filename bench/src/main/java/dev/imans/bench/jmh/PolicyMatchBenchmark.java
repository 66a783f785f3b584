package dev.imans.bench.jmh;

import dev.imans.policy.AccessFacts;
import dev.imans.policy.Func;
import dev.imans.policy.Mask;
import dev.imans.policy.MatchResult;
import dev.imans.policy.Policy;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyMatcher;
import dev.imans.policy.PolicyParser;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a policy's size adds to one decision: the policy evaluated for an open, with 1 rule and with
 * 1,000 (the kernel's worst case too: every rule is walked when the deciding one is last). The
 * difference between the two is the cost a large policy adds to a cold open.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyMatchBenchmark {
    @Param({"1", "1000"})
    int rules;

    Policy policy;
    AccessFacts open;

    @Setup
    public void setup() throws PolicyException {
        StringBuilder b = new StringBuilder();
        // Rules that each fail on a different condition, as a real large policy's do, before the one that decides.
        for (int i = 0; i < rules - 1; i++) {
            switch (i % 4) {
                case 0 -> b.append("dont_measure fsmagic=0x").append(Integer.toHexString(0x1000 + i)).append('\n');
                case 1 -> b.append("appraise fowner=").append(10000 + i).append(" func=FILE_CHECK\n");
                case 2 -> b.append("measure uid=").append(10000 + i).append(" func=BPRM_CHECK\n");
                default -> b.append("audit fsname=fs").append(i).append('\n');
            }
        }
        b.append("appraise fsmagic=0x01021994\n");
        policy = PolicyParser.parse(b.toString());
        open = AccessFacts.of(Func.FILE_CHECK, Mask.MAY_READ.bit()).withFilesystem(0x01021994L, "tmpfs", null);
    }

    @Benchmark
    public MatchResult matchAnOpen() {
        return PolicyMatcher.match(policy, open);
    }
}
