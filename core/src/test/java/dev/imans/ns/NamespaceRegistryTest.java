package dev.imans.ns;

import dev.imans.appraise.AppraiseMode;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class NamespaceRegistryTest {
    private static final NamespaceId A = new NamespaceId(4026532208L);
    private static final NamespaceId B = new NamespaceId(4026532300L);

    @Test
    void registeringTwiceIsANoOpThatReleasesTheSecondPin() {
        NamespaceRegistry r = new NamespaceRegistry(AppraiseSetting.ENFORCE);
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        assertThat(r.register(A, first::incrementAndGet)).isTrue();
        assertThat(r.register(A, second::incrementAndGet)).isFalse();
        assertThat(first).hasValue(0);
        assertThat(second).hasValue(1);
        assertThat(r.unregister(A)).isTrue();
        assertThat(first).hasValue(1);
        assertThat(r.unregister(A)).isFalse();
        assertThat(first).hasValue(1);
    }

    @Test
    void unregisteredNamespaceHasNoSlotAndItsOpenSessionCannotCommit() {
        NamespaceRegistry r = new NamespaceRegistry(AppraiseSetting.ENFORCE);
        r.register(A, () -> { });
        PolicyTarget t = new PolicyTarget.Namespace(A);
        PolicySlot slot = r.slot(t).orElseThrow();
        PolicySession s = slot.openSession().orElseThrow();
        PolicySessionTest.writeAll(s, "measure func=BPRM_CHECK");
        r.unregister(A);
        assertThat(r.slot(t)).isEmpty();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
        assertThat(slot.committed()).isEmpty();
    }

    @Test
    void enforceNsStartsNamespacesInFixAndSwitchesToEnforceOnTheFirstCommit() {
        NamespaceRegistry r = new NamespaceRegistry(AppraiseSetting.ENFORCE_NS);
        r.register(A, () -> { });
        r.register(B, () -> { });
        PolicyTarget a = new PolicyTarget.Namespace(A);
        assertThat(r.mode(PolicyTarget.HOST)).contains(AppraiseMode.ENFORCE);
        assertThat(r.mode(a)).contains(AppraiseMode.FIX);
        PolicySlot slot = r.slot(a).orElseThrow();
        PolicySession s = slot.openSession().orElseThrow();
        PolicySessionTest.writeAll(s, "appraise func=FILE_CHECK\n");
        slot.close(s);
        assertThat(r.mode(a)).contains(AppraiseMode.ENFORCE);
        assertThat(r.statuses()).extracting(NamespaceRegistry.Status::mode)
                .containsExactly(AppraiseMode.ENFORCE, AppraiseMode.FIX);
        assertThat(r.statuses()).extracting(NamespaceRegistry.Status::rules).containsExactly(1, 0);
    }

    @Test
    void otherModesApplyAsGiven() {
        for (AppraiseSetting m : new AppraiseSetting[] {AppraiseSetting.OFF, AppraiseSetting.LOG, AppraiseSetting.FIX,
            AppraiseSetting.ENFORCE}) {
            NamespaceRegistry r = new NamespaceRegistry(m);
            r.register(A, () -> { });
            assertThat(r.mode(new PolicyTarget.Namespace(A))).contains(m.forHost());
            assertThat(r.mode(PolicyTarget.HOST)).contains(m.forHost());
            assertThat(m.forHost().text()).isEqualTo(m.kernelName());
        }
        assertThat(AppraiseSetting.byName("enforce_ns")).contains(AppraiseSetting.ENFORCE_NS);
        assertThat(AppraiseSetting.byName("ENFORCE")).isEmpty();
        assertThat(AppraiseSetting.ENFORCE_NS.flags()).isEqualTo(0x41);
    }

    @Test
    void clearReleasesEveryPin() {
        NamespaceRegistry r = new NamespaceRegistry(AppraiseSetting.ENFORCE);
        AtomicInteger released = new AtomicInteger();
        r.register(A, released::incrementAndGet);
        r.register(B, released::incrementAndGet);
        r.clear();
        assertThat(released).hasValue(2);
        assertThat(r.ids()).isEmpty();
    }
}
