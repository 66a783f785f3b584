package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.Xattr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code imans check}: the dry run over real files, labels and mounts. */
class CheckCommandTest {
    @TempDir
    Path tmp;
    ScratchFs fs;
    Path dir;
    Path policy;

    @BeforeEach
    void mount() throws Exception {
        fs = new ScratchFs(Files.createDirectories(tmp.resolve("fs")));
        dir = fs.dir();
        policy = tmp.resolve("p.policy");
    }

    @AfterEach
    void unmount() throws Exception {
        fs.close();
    }

    Path file(String name, String content) throws Exception {
        Files.createDirectories(dir.resolve(name).getParent());
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void eachFileGetsTheKernelsVerdictAndTheDecidingRuleThenASummary() throws Exception {
        Path good = file("t/good", "hello\n");
        Path none = file("t/none", "hello\n");
        Path tampered = file("t/tampered", "hello\n");
        Path tool = file("t/bin/tool", "#!/bin/sh\n");
        Path theirs = file("t/theirs", "x\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setOwner(theirs, theirs.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534"));
        assertThat(Tools.imans("hash", "--set", good.toString(), tampered.toString()).rc()).isZero();
        Files.writeString(tampered, "changed\n");
        Files.writeString(policy, "dont_appraise fowner=65534\nappraise fsmagic=0x01021994 func=FILE_CHECK\n"
                + "appraise func=BPRM_CHECK appraise_type=imasig\n");

        Tools.Result r = Tools.imans("check", "--policy", policy.toString(), dir.resolve("t").toString());
        assertThat(r.rc()).as(r.err()).isEqualTo(1);
        assertThat(r.out())
                .contains(good + ": FILE_CHECK: allow, appraised: ")
                .contains(none + ": FILE_CHECK: refused missing-hash: ")
                .contains("(rule 2: appraise func=FILE_CHECK fsmagic=0x1021994)")
                .contains(tampered + ": FILE_CHECK: refused invalid-hash: ")
                .contains(theirs + ": FILE_CHECK: allow (rule 1: dont_appraise fowner=65534)")
                .contains(tool + ": BPRM_CHECK: refused IMA-signature-required: ")
                .contains("(rule 3: appraise func=BPRM_CHECK appraise_type=imasig)")
                .contains("""
                        summary:
                          FILE_CHECK: 5 judged, 2 allowed, 3 refused
                            invalid-hash: 1
                            missing-hash: 2
                          BPRM_CHECK: 1 judged, 0 allowed, 1 refused
                            IMA-signature-required: 1
                        """);

        Tools.Result quiet = Tools.imans("check", "-q", "--policy", policy.toString(), good.toString());
        assertThat(quiet.rc()).isZero();
        assertThat(quiet.out()).doesNotContain(good.toString()).contains("FILE_CHECK: 1 judged, 1 allowed, 0 refused");
    }

    @Test
    void aPolicyOnAnotherFilesystemAllowsEverythingHere() throws Exception {
        Path none = file("none", "x\n");
        Files.writeString(policy, "appraise fsmagic=0xef53\nappraise fsname=ext4\n");
        Tools.Result r = Tools.imans("check", "--policy", policy.toString(), none.toString());
        assertThat(r.rc()).isZero();
        assertThat(r.out()).contains(none + ": FILE_CHECK: allow (no appraise rule)");
        assertThat(Xattr.get(none, Xattr.SECURITY_IMA)).isEmpty();
    }

    @Test
    void fsuuidRulesAreJudgedOnTheFilesystemsUuid() throws Exception {
        Path none = file("none", "x\n");
        java.util.UUID uuid;
        try (var fd = dev.imans.linux.Fd.open(none, dev.imans.linux.Fd.O_RDONLY)) {
            uuid = dev.imans.linux.FsUuid.read(fd.value(), dev.imans.linux.Stat.TMPFS_MAGIC).orElseThrow();
        }
        Files.writeString(policy, "appraise fsuuid=" + uuid + "\n");
        assertThat(Tools.imans("check", "--policy", policy.toString(), none.toString()).out())
                .contains(none + ": FILE_CHECK: refused missing-hash: ");
        Files.writeString(policy, "appraise fsuuid=" + new java.util.UUID(uuid.getMostSignificantBits(),
                ~uuid.getLeastSignificantBits()) + "\n");
        assertThat(Tools.imans("check", "--policy", policy.toString(), none.toString()).out())
                .contains(none + ": FILE_CHECK: allow (no appraise rule)");
    }

    @Test
    void aRejectedPolicyChecksNothing() throws Exception {
        Path none = file("none", "x\n");
        Files.writeString(policy, "appraise func=FILE_CHECK\nappraise func=NOT_A_HOOK\n");
        Tools.Result r = Tools.imans("check", "--policy", policy.toString(), none.toString());
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err()).contains(policy + ":2:10: unknown func \"NOT_A_HOOK\"").contains("would be rejected by the kernel; nothing checked");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void nsViewSeesTheTreeAsTheProcessDoes() throws Exception {
        // A tmpfs that only the other namespace has, at a path that is an empty directory here.
        Path there = Files.createDirectories(tmp.resolve("there"));
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs t " + there + " && echo hi > " + there + "/f && echo ready && exec sleep 60").start();
        try {
            assertThat(new String(p.getInputStream().readNBytes(6))).isEqualTo("ready\n");
            Files.writeString(policy, "appraise fsname=tmpfs\n");
            Tools.Result here = Tools.imans("check", "--policy", policy.toString(), there.toString());
            assertThat(here.out()).doesNotContain(there + "/f");
            Tools.Result view = Tools.imans("check", "--ns-view", Long.toString(p.pid()), "--policy",
                    policy.toString(), there.toString());
            assertThat(view.rc()).as(view.err()).isEqualTo(1);
            assertThat(view.out()).contains(there + "/f: FILE_CHECK: refused missing-hash: ");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }
}
