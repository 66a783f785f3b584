package dev.imans.daemon.enforce;

import dev.imans.appraise.Requirements;
import dev.imans.crypto.Keyring;

/**
 * What an appraisal result depends on besides the file: the rule's requirements and the keys that
 * verify signatures. A namespace appraises with its own keys and the host's, so one signed file can
 * pass in one namespace and fail in another.
 */
public record AppraisalKey(Requirements requirements, Keyring keyring) {}
