/**
 * The guardrail policy engine: named policies of rules (detector + action + stages), selected
 * per request from the global default, the route and the caller's team. Input rules run before
 * routing, so a redacted prompt is what gets planned, sent, cached and logged; output rules run
 * on answers, and on streams over a held-back window so that a match is caught before it leaves.
 *
 * Decisions never carry the matched text: a rule name, its kinds and a count.
 */
import type { GuardPolicyConfig, GuardRuleConfig } from '../config/schema.ts';
import { ConfigError } from '../config/load.ts';
import { AppError } from '../engine/app-error.ts';
import type { CanonicalRequest, Choice, ContentPart, Message } from '../providers/canonical.ts';
import { countText } from '../pricing/tokens.ts';
import { createDenyPatternsDetector, createDenyTermsDetector, createInjectionDetector, createPiiDetector } from './detectors/index.ts';
import { Redactor, restore as restorePlaceholders } from './redact.ts';
import { PII_KINDS, type Detector, type Finding, type PiiKind } from './types.ts';
import { withFields } from '../util/objects.ts';

export type GuardStage = 'input' | 'output';
export type GuardAction = 'block' | 'redact' | 'flag';
/** The strongest action taken on a request; `pass` when rules ran and nothing matched. */
export type GuardOutcome = 'pass' | 'flagged' | 'redacted' | 'blocked';

export interface GuardDecision {
  policy: string;
  rule: string;
  stage: GuardStage;
  action: GuardAction;
  /** Distinct kinds found (email, payment_card, deny_term, prompt_size...). */
  kinds: string[];
  /** Matches acted upon. */
  count: number;
  /** Highest prompt-injection score, when that detector fired. */
  score?: number;
}

export interface GuardSettings {
  policies: GuardPolicyConfig[];
  default: string[];
  streamWindowChars: number;
}

interface Rule {
  policy: string;
  name: string;
  action: GuardAction;
  input: boolean;
  output: boolean;
  restore: boolean;
  detectors: Detector[];
  /** Injection heuristics read what users and tools wrote, not the operator's system prompt. */
  untrustedOnly: boolean;
  maxChars: number | undefined;
  maxTokens: number | undefined;
}

const STRENGTH: Record<GuardOutcome, number> = { pass: 0, flagged: 1, redacted: 2, blocked: 3 };
const OUTCOME: Record<GuardAction, GuardOutcome> = { flag: 'flagged', redact: 'redacted', block: 'blocked' };

export function outcomeOf(decisions: readonly GuardDecision[]): GuardOutcome {
  let o: GuardOutcome = 'pass';
  for (const d of decisions) if (STRENGTH[OUTCOME[d.action]] > STRENGTH[o]) o = OUTCOME[d.action];
  return o;
}

function detectorsFor(r: GuardRuleConfig): Detector[] {
  switch (r.detect) {
    case 'pii':
      return PII_KINDS.map(createPiiDetector);
    case 'deny_terms':
      return [createDenyTermsDetector(r.terms ?? [])];
    case 'deny_patterns':
      return [createDenyPatternsDetector(r.patterns ?? [])];
    case 'prompt_injection':
      return [createInjectionDetector({ threshold: r.threshold ?? 0.5 })];
    case 'prompt_size':
      return [];
    default:
      return [createPiiDetector(r.detect as PiiKind)];
  }
}

/** Compiles every configured policy once, at start-up; bad names and patterns are config errors. */
export class Guardrails {
  private readonly policies = new Map<string, Rule[]>();
  private readonly sets = new Map<string, GuardSet>();
  readonly windowChars: number;
  private readonly defaults: string[];

  constructor(settings: GuardSettings) {
    const problems: string[] = [];
    this.windowChars = settings.streamWindowChars;
    settings.policies.forEach((p, i) => {
      if (this.policies.has(p.name)) problems.push(`guardrails.policies[${i}].name: "${p.name}" is already used`);
      const rules: Rule[] = [];
      p.rules.forEach((r, j) => {
        try {
          rules.push({
            policy: p.name,
            name: r.name ?? r.detect,
            action: r.action,
            input: r.on.includes('input'),
            output: r.on.includes('output'),
            restore: r.restore,
            detectors: detectorsFor(r),
            untrustedOnly: r.detect === 'prompt_injection',
            maxChars: r.maxChars,
            maxTokens: r.maxTokens,
          });
        } catch (err) {
          problems.push(`guardrails.policies[${i}].rules[${j}]: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
      this.policies.set(p.name, rules);
    });
    settings.default.forEach((n, i) => {
      if (!this.policies.has(n)) problems.push(`guardrails.default[${i}]: no policy named "${n}"`);
    });
    if (problems.length) throw new ConfigError(problems);
    this.defaults = settings.default;
  }

  has(name: string): boolean {
    return this.policies.has(name);
  }

  names(): string[] {
    return [...this.policies.keys()];
  }

  /** The rules for a request: the defaults, the route's and the team's policies (each once). */
  select(routePolicies: readonly string[], teamPolicies: readonly string[] | null | undefined): GuardSet {
    const names = [...new Set([...this.defaults, ...routePolicies, ...(teamPolicies ?? [])])].filter((n) => this.policies.has(n));
    const key = names.join('\u0000');
    let set = this.sets.get(key);
    if (!set) {
      set = new GuardSet(
        names.flatMap((n) => this.policies.get(n)!),
        this.windowChars,
      );
      // Bounded: the combinations come from config and team settings.
      if (this.sets.size < 1_000) this.sets.set(key, set);
    }
    return set;
  }
}

/** A block rule matched: POLICY_VIOLATION naming the rule, never echoing the matched text. */
export class GuardViolation extends AppError {
  constructor(
    readonly decision: GuardDecision,
    /** Every decision taken on the request up to the block, the block included. */
    readonly decisions: GuardDecision[] = [decision],
  ) {
    super('POLICY_VIOLATION', `Blocked by guardrail '${decision.rule}' (${decision.kinds.join(', ')} in the ${decision.stage === 'input' ? 'prompt' : 'answer'}).`, {
      details: { guardrail: { policy: decision.policy, rule: decision.rule, stage: decision.stage, kinds: decision.kinds } },
    });
  }
}

export interface InputCheck {
  request: CanonicalRequest;
  decisions: GuardDecision[];
  /** Placeholder -> original, for rules that restore (empty when none). */
  restore: Map<string, string>;
}

interface Slot {
  text: string;
  untrusted: boolean;
  set(redacted: string): void;
}

/** Accumulates matches per rule into decisions. */
class Tally {
  private readonly byRule = new Map<Rule, GuardDecision>();

  add(rule: Rule, stage: GuardStage, findings: ReadonlyArray<{ kind: string; score?: number | undefined }>): GuardDecision {
    let d = this.byRule.get(rule);
    if (!d) {
      d = { policy: rule.policy, rule: rule.name, stage, action: rule.action, kinds: [], count: 0 };
      this.byRule.set(rule, d);
    }
    for (const f of findings) {
      if (!d.kinds.includes(f.kind)) d.kinds.push(f.kind);
      if (f.score !== undefined) d.score = Math.max(d.score ?? 0, f.score);
    }
    d.count += findings.length;
    return d;
  }

  decisions(): GuardDecision[] {
    return [...this.byRule.values()];
  }
}

export class GuardSet {
  readonly input: Rule[];
  readonly output: Rule[];
  readonly empty: boolean;

  constructor(
    rules: Rule[],
    readonly windowChars: number,
  ) {
    this.input = rules.filter((r) => r.input);
    this.output = rules.filter((r) => r.output);
    this.empty = rules.length === 0;
  }

  /** Runs the input rules. Throws GuardViolation on a block; returns the (possibly redacted) request. */
  checkInput(req: CanonicalRequest): InputCheck {
    if (!this.input.length) return { request: req, decisions: [], restore: new Map() };
    const messages = req.messages.map((m) => ({ ...m })) as Message[];
    const slots = slotsOf(messages);
    const tally = new Tally();
    const sized = this.input.filter((r) => r.maxChars !== undefined || r.maxTokens !== undefined);
    for (const rule of sized) {
      const chars = slots.reduce((n, s) => n + s.text.length, 0);
      const over =
        (rule.maxChars !== undefined && chars > rule.maxChars) ||
        (rule.maxTokens !== undefined && (chars > rule.maxTokens * 8 || slots.reduce((n, s) => n + countText(s.text), 0) > rule.maxTokens));
      if (!over) continue;
      const d = tally.add(rule, 'input', [{ kind: 'prompt_size' }]);
      if (rule.action === 'block') throw new GuardViolation(d, tally.decisions());
    }
    const redactions: Array<{ slot: Slot; findings: Finding[]; restorable: Finding[] }> = [];
    for (const slot of slots) {
      let toRedact: Finding[] | undefined;
      let restorable: Finding[] | undefined;
      for (const rule of this.input) {
        if (!rule.detectors.length || (rule.untrustedOnly && !slot.untrusted)) continue;
        const found = detect(rule, slot.text);
        if (!found.length) continue;
        const d = tally.add(rule, 'input', found);
        if (rule.action === 'block') throw new GuardViolation(d, tally.decisions());
        if (rule.action === 'redact') {
          (toRedact ??= []).push(...found);
          if (rule.restore) (restorable ??= []).push(...found);
        }
      }
      if (toRedact) redactions.push({ slot, findings: toRedact, restorable: restorable ?? [] });
    }
    const restore = new Map<string, string>();
    if (redactions.length) {
      const redactor = new Redactor({ restorable: true });
      for (const s of slots) redactor.reserve(s.text);
      const keep = new Set<string>();
      for (const { slot, findings, restorable } of redactions) {
        for (const f of restorable) keep.add(slot.text.slice(f.start, f.end));
        slot.set(redactor.redact(slot.text, findings));
      }
      for (const [placeholder, original] of redactor.restore) if (keep.has(original)) restore.set(placeholder, original);
      return { request: withFields(req, { messages }), decisions: tally.decisions(), restore };
    }
    return { request: req, decisions: tally.decisions(), restore };
  }

  /**
   * Runs the output rules on a whole answer: throws GuardViolation on a block, masks redactions
   * (`masked`: what may be stored and cached), then puts back the originals of restorable input
   * redactions (`choices`: what the client receives).
   */
  checkOutput(choices: Choice[], restore: Map<string, string>): { choices: Choice[]; masked: Choice[]; decisions: GuardDecision[] } {
    if (!this.output.length && restore.size === 0) return { choices, masked: choices, decisions: [] };
    const tally = new Tally();
    const masked = choices.map((c) => {
      if (!this.output.length) return c;
      // One redactor per choice: text and tool arguments share its placeholder numbering.
      const redactor = outputRedactor(restore);
      const mask = (text: string) => {
        const redact = settle(this.outputMatches(text, 0, tally), tally, 0, Infinity);
        // Placeholders ([EMAIL_1]) hold no quote or backslash: tool arguments stay valid JSON.
        return redact.length ? redactor.redact(text, redact) : text;
      };
      const toolCalls = c.toolCalls.map((call) => {
        const args = mask(call.arguments);
        return args === call.arguments ? call : withFields(call, { arguments: args });
      });
      const content = c.content === null ? null : mask(c.content);
      return content === c.content && toolCalls.every((t, i) => t === c.toolCalls[i]) ? c : withFields(c, { content, toolCalls });
    });
    const restored = restore.size
      ? masked.map((c) => {
          const content = c.content === null ? null : restorePlaceholders(c.content, restore);
          // Inside JSON arguments an original value is written as JSON string content.
          const toolCalls = c.toolCalls.map((t) => {
            const args = restoreJsonPlaceholders(t.arguments, restore);
            return args === t.arguments ? t : withFields(t, { arguments: args });
          });
          return content === c.content && toolCalls.every((t, i) => t === c.toolCalls[i]) ? c : withFields(c, { content, toolCalls });
        })
      : masked;
    return { choices: restored, masked, decisions: tally.decisions() };
  }

  /**
   * Output rules over `text`: throws GuardViolation when a block rule matches anything ending
   * after `from` (text before it was already sent); returns the other matches ending after it.
   */
  outputMatches(text: string, from: number, tally: Tally): Match[] {
    const matches: Match[] = [];
    for (const rule of this.output) {
      if (!rule.detectors.length) continue;
      const found = detect(rule, text).filter((f) => f.end > from);
      if (!found.length) continue;
      if (rule.action === 'block') throw new GuardViolation(tally.add(rule, 'output', found), tally.decisions());
      for (const f of found) matches.push({ rule, f });
    }
    return matches;
  }

  /** A guard for a streamed answer (per choice), or undefined when nothing needs checking. */
  streamGuard(restore: Map<string, string>): StreamGuard | undefined {
    if (!this.output.length && restore.size === 0) return undefined;
    return new StreamGuard(this, restore);
  }
}

function detect(rule: Rule, text: string): Finding[] {
  if (rule.detectors.length === 1) return rule.detectors[0]!.detect(text);
  let all: Finding[] | undefined;
  for (const d of rule.detectors) {
    const found = d.detect(text);
    if (found.length) (all ??= []).push(...found);
  }
  return all ?? NONE;
}

const NONE: Finding[] = [];

function slotsOf(messages: Message[]): Slot[] {
  const slots: Slot[] = [];
  messages.forEach((m, i) => {
    const untrusted = m.role === 'user' || m.role === 'tool';
    if (typeof m.content === 'string') {
      slots.push({ text: m.content, untrusted, set: (t) => ((messages[i] as { content: string }).content = t) });
    } else if (Array.isArray(m.content)) {
      const parts = m.content.map((p) => ({ ...p })) as ContentPart[];
      (messages[i] as { content: ContentPart[] }).content = parts;
      for (const p of parts) if (p.type === 'text') slots.push({ text: p.text, untrusted, set: (t) => (p.text = t) });
    }
    if (m.role === 'assistant' && m.toolCalls?.length) {
      const calls = m.toolCalls.map((c) => ({ ...c }));
      (messages[i] as { toolCalls: typeof calls }).toolCalls = calls;
      for (const c of calls) slots.push({ text: c.arguments, untrusted: false, set: (t) => (c.arguments = t) });
    }
  });
  return slots;
}

const PARTIAL_PLACEHOLDER = /\[[A-Z]{0,12}(?:_\d{0,6})?$/;

/**
 * Output rules over a streamed answer. Text is held back by up to `windowChars` characters per
 * choice: a match is caught (and the stream cut, or the match masked) before any of it is sent,
 * for matches up to the window's length. Restored placeholders are held back until complete.
 */
export class StreamGuard {
  private readonly state = new Map<number, { pending: string; tail: string; redactor: Redactor }>();
  private readonly tally = new Tally();

  constructor(
    private readonly set: GuardSet,
    private readonly restoreMap: Map<string, string>,
  ) {}

  /** Text to send now for this choice (may be empty). Throws GuardViolation on a block. */
  push(index: number, delta: string): string {
    const s = this.stateOf(index);
    s.pending += delta;
    return this.commit(s, false);
  }

  /** Everything still held back for this choice (at its end). */
  end(index: number): string {
    const s = this.state.get(index);
    return s ? this.commit(s, true) : '';
  }

  /** Indices with text still held back. */
  open(): number[] {
    return [...this.state.entries()].filter(([, s]) => s.pending.length > 0).map(([i]) => i);
  }

  decisions(): GuardDecision[] {
    return this.tally.decisions();
  }

  private stateOf(index: number) {
    let s = this.state.get(index);
    if (!s) {
      s = { pending: '', tail: '', redactor: outputRedactor(this.restoreMap) };
      this.state.set(index, s);
    }
    return s;
  }

  private commit(s: { pending: string; tail: string; redactor: Redactor }, final: boolean): string {
    if (!s.pending) return '';
    const hasRules = this.set.output.length > 0;
    const W = this.set.windowChars;
    const offset = s.tail.length;
    let cut = final || !hasRules ? s.pending.length : s.pending.length - W;
    let matches: Match[] = [];
    if (hasRules) {
      matches = this.set
        .outputMatches(s.tail + s.pending, offset, this.tally)
        .map(({ rule, f }) => ({ rule, f: withFields(f, { start: Math.max(0, f.start - offset), end: f.end - offset }) }));
    }
    // Never split a match between what is sent now and what is held back. Moving the cut back
    // can make an earlier (overlapping) match straddle it: repeat until no match does.
    const unsplit = () => {
      for (let moved = true; moved; ) {
        moved = false;
        for (const { f } of matches) {
          if (f.start < cut && f.end > cut) {
            cut = f.start;
            moved = true;
          }
        }
      }
    };
    unsplit();
    if (!final && this.restoreMap.size && cut > 0) {
      const partial = PARTIAL_PLACEHOLDER.exec(s.pending.slice(Math.max(0, cut - 20), cut));
      if (partial) {
        cut -= partial[0].length;
        unsplit();
      }
    }
    if (cut <= 0) return '';
    const raw = s.pending.slice(0, cut);
    // Matches are counted when the part they start in is sent; a match that began in text
    // already sent (longer than the window) has its remainder masked.
    const redact = settle(matches.filter(({ f }) => f.end <= cut), this.tally, 0, cut);
    const text = redact.length ? s.redactor.redact(raw, redact) : raw;
    s.tail = (s.tail + raw).slice(-W);
    s.pending = s.pending.slice(cut);
    return restorePlaceholders(text, this.restoreMap);
  }
}

interface Match {
  rule: Rule;
  f: Finding;
}

/** Tallies matches starting in [from, to) and returns those to redact. */
function settle(matches: Match[], tally: Tally, from: number, to: number): Finding[] {
  const byRule = new Map<Rule, Finding[]>();
  for (const m of matches) {
    if (m.f.start < from || m.f.start >= to) continue;
    const list = byRule.get(m.rule);
    if (list) list.push(m.f);
    else byRule.set(m.rule, [m.f]);
  }
  for (const [rule, found] of byRule) tally.add(rule, 'output', found);
  return matches.filter((m) => m.rule.action === 'redact').map((m) => m.f);
}

function restoreJsonPlaceholders(json: string, restore: Map<string, string>): string {
  if (!restore.size || !json.includes('[')) return json;
  const escaped = new Map([...restore].map(([k, v]) => [k, JSON.stringify(v).slice(1, -1)]));
  return restorePlaceholders(json, escaped);
}

function outputRedactor(restore: Map<string, string>): Redactor {
  const r = new Redactor();
  // Input placeholders are never reused for output matches, so restoring cannot swap values.
  for (const p of restore.keys()) r.reserve(p);
  return r;
}
