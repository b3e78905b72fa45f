/**
 * Shared vocabulary of the guardrails: what a detector looks for, what it reports, and the
 * detector contract the policy engine composes. Detectors are pure and synchronous: the same
 * text always yields the same findings, with no I/O and no shared mutable state.
 */

export type PiiKind = 'email' | 'phone' | 'payment_card' | 'iban' | 'us_ssn' | 'ip_address' | 'secret';

export type GuardKind = PiiKind | 'deny_term' | 'deny_pattern' | 'prompt_injection';

/** Every PII kind, in a stable order (reports, configuration validation, tests). */
export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ip_address', 'secret'];

/**
 * One hit. Offsets are UTF-16 code-unit indices into the scanned string, `start` inclusive and
 * `end` exclusive, so `text.slice(start, end)` is the matched substring.
 */
export interface Finding {
  kind: GuardKind;
  start: number;
  end: number;
  /**
   * What exactly matched, when a kind has sub-kinds: the card brand ('visa'), the secret type
   * ('openai_api_key', 'jwt', 'private_key'), 'ipv4' / 'ipv6', the IBAN country ('DE'), the
   * configured deny term or pattern, or the injection rule.
   */
  label?: string;
  /** 0..1, only for heuristic detectors (prompt injection). */
  score?: number;
}

export interface Detector {
  readonly kind: GuardKind;
  /** Findings in ascending `start` order; non-overlapping within one detector. */
  detect(text: string): Finding[];
}
