/**
 * Prompt-injection heuristics: weighted rules for instruction overrides ("ignore all previous
 * instructions"), system-prompt extraction ("print your system prompt"), role-play jailbreaks
 * (DAN, "developer mode enabled", "you are no longer bound by", "act as an unfiltered AI") and
 * prompt-delimiter tricks ("<|im_start|>system", "### System:"). The score is the sum of the
 * weights of the distinct rules that fire, clamped to 1; at or above the threshold the detector
 * reports one finding spanning the strongest single match.
 *
 * Weights are set so that one unambiguous attack phrase passes the default threshold (0.5) on its
 * own, while words with everyday meanings ("jailbreak my iPhone", "developer mode" on Android,
 * "ignore the previous error", a "System:" line in a log) stay below it unless combined with
 * other signals. This is a tripwire for common attacks, not a classifier: paraphrases and
 * obfuscation (zero-width characters, homoglyphs, other languages) get through.
 */
import type { Detector, Finding } from '../types.ts';

export interface InjectionOptions {
  /** Combined score at which the detector reports, 0..1. Default 0.5. */
  threshold?: number;
}

export interface InjectionRule {
  id: string;
  /** Contribution to the score when the rule fires (once per rule, however often it matches). */
  weight: number;
  pattern: RegExp;
  /** Rejects a match the pattern cannot rule out (e.g. "Dan" the name vs "DAN"). */
  confirm?: (match: string) => boolean;
}

const OVERRIDE_VERB = '(?:ignore|disregard|forget|override|bypass|skip|discard|abandon|neglect|set\\s+aside)';
const FILLER = '(?:all|any|every|each|the|of|these|those|your|its|earlier|prior|previous|above|preceding|foregoing|initial|original|system|developer|safety|existing|current)';
const PRIOR = '(?:previous|prior|above|earlier|preceding|foregoing|former|initial|original|old|system|developer|safety|existing|current)';
const DIRECTIVES = '(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guidance|commands?|context|programming|constraints|restrictions|policies|orders)';
const LIMITS = '(?:restrictions|rules|limits|limitations|filters|guidelines|constraints|boundaries|censorship|policies|ethics|morals|guardrails)';

const rx = (source: string, flags = 'gi') => new RegExp(source, flags);

export const INJECTION_RULES: readonly InjectionRule[] = [
  {
    id: 'override_instructions',
    weight: 0.7,
    pattern: rx(`\\b${OVERRIDE_VERB}\\s+(?:${FILLER}\\s+){0,4}${PRIOR}\\s+${DIRECTIVES}\\b|\\b${OVERRIDE_VERB}\\s+(?:all\\s+|any\\s+|the\\s+|your\\s+){0,2}${DIRECTIVES}\\s+(?:above|before\\s+this|you\\s+(?:were|have\\s+been)\\s+given)`),
  },
  {
    id: 'forget_everything',
    weight: 0.55,
    pattern: rx(`\\b(?:ignore|disregard|forget)\\s+(?:about\\s+)?(?:everything|all\\s+of\\s+that|anything)\\s+(?:you(?:['’]ve|\\s+have|\\s+were|\\s+was)?\\s+(?:been\\s+)?(?:told|instructed|taught|given|programmed)|(?:written\\s+)?above|before\\s+this)`),
  },
  {
    id: 'new_instructions',
    weight: 0.3,
    pattern: rx(`\\b(?:new|updated|real|actual|true|revised)\\s+(?:system\\s+)?instructions?\\s*:|\\bfrom\\s+now\\s+on,?\\s+you\\s+(?:will|are|must|shall|should|can)\\b`),
  },
  {
    id: 'reveal_system_prompt',
    weight: 0.6,
    pattern: rx(`\\b(?:reveal|print|show|display|output|repeat|recite|dump|leak|disclose|expose|share|give|tell|write\\s+out|spell\\s+out|type\\s+out|list)\\s+(?:me\\s+|us\\s+)?(?:back\\s+|out\\s+)?(?:all\\s+of\\s+|all\\s+)?your\\s+(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|confidential|raw|verbatim)\\s+){0,3}(?:system\\s+(?:prompt|message|instructions?)|(?:initial|original|hidden|secret|internal)\\s+(?:prompt|instructions)|pre-?prompt|prompt|instructions|rules|guidelines)\\b|\\bwhat\\s+(?:is|are|was|were)\\s+your\\s+(?:(?:full|exact|original|initial|hidden|secret)\\s+)?(?:system\\s+prompt|instructions|initial\\s+prompt)\\b`),
  },
  {
    // "the system prompt" also comes up in honest developer questions, hence the low weight.
    id: 'reveal_the_system_prompt',
    weight: 0.35,
    pattern: rx(`\\b(?:reveal|print|show|display|output|repeat|recite|dump|leak|disclose)\\s+(?:me\\s+)?the\\s+(?:(?:full|entire|exact|original|hidden|secret)\\s+)?(?:system\\s+prompt|hidden\\s+prompt|initial\\s+prompt|text\\s+above)\\b`),
  },
  {
    id: 'dan',
    weight: 0.6,
    pattern: rx(`\\bdo\\s+anything\\s+now\\b|\\b(?:you\\s+are|you['’]re|act\\s+as|become|pretend\\s+to\\s+be|you\\s+will\\s+be)\\s+(?:now\\s+)?(?:a\\s+|an\\s+)?DAN\\b`),
    confirm: (m) => /do\s+anything\s+now/i.test(m) || m.endsWith('DAN'),
  },
  { id: 'dan_name', weight: 0.3, pattern: rx('\\bDAN\\b', 'g') },
  {
    id: 'developer_mode',
    weight: 0.6,
    pattern: rx(`\\b(?:developer|god|sudo|jailbreak|unrestricted)\\s+mode\\s+(?:enabled|activated|is\\s+(?:now\\s+)?(?:on|enabled|active)|output)\\b|\\b(?:with|in)\\s+(?:developer|god|sudo)\\s+mode\\s+(?:enabled|on)\\b`),
  },
  { id: 'developer_mode_mention', weight: 0.25, pattern: rx('\\b(?:developer|god|sudo)\\s+mode\\b') },
  { id: 'jailbreak_word', weight: 0.25, pattern: rx('\\bjail-?\\s?brea?k(?:s|ing|ed|en)?\\b|\\bjailbroken\\b') },
  {
    id: 'no_longer_bound',
    weight: 0.7,
    pattern: rx(`\\byou\\s+(?:are|['’]re|will\\s+be)\\s+(?:now\\s+)?(?:no\\s+longer|not)\\s+(?:bound|restricted|limited|constrained|governed)\\s+by\\b|\\byou\\s+(?:no\\s+longer\\s+have|have\\s+no|don['’]t\\s+have\\s+any)\\s+(?:\\w+\\s+){0,2}${LIMITS}\\b|\\bfree\\s+(?:from|of)\\s+(?:all\\s+|any\\s+|your\\s+|the\\s+){0,2}(?:\\w+\\s+)?${LIMITS}\\b`),
  },
  {
    id: 'pretend_no_restrictions',
    weight: 0.7,
    pattern: rx(`\\b(?:pretend|imagine|act\\s+as\\s+if|suppose|assume)\\s+(?:that\\s+)?(?:you\\s+(?:have|had|are|were)|you['’]re)\\s+(?:no|without|free\\s+of)\\s+(?:\\w+\\s+){0,2}${LIMITS}\\b|\\bpretend\\s+(?:to\\s+be|you\\s+are)\\s+(?:an?\\s+)?(?:\\w+\\s+){0,2}(?:without|with\\s+no)\\s+(?:\\w+\\s+){0,2}${LIMITS}\\b`),
  },
  {
    id: 'unfiltered_persona',
    weight: 0.7,
    pattern: rx(`\\b(?:act|behave|respond|answer|reply|roleplay|role-play|pose)\\s+(?:as|like)\\s+(?:an?\\s+|the\\s+)?(?:\\w+\\s+){0,2}?(?:unfiltered|uncensored|unrestricted|unbound|amoral|unethical|immoral|rogue|jailbroken|unaligned|lawless)\\b|\\byou\\s+are\\s+(?:now\\s+)?(?:an?\\s+)?(?:unfiltered|uncensored|unrestricted|amoral|jailbroken|unaligned)\\b`),
  },
  {
    id: 'ignore_policy',
    weight: 0.55,
    pattern: rx(`\\b(?:ignore|bypass|disregard|violate|break|circumvent|disable)\\s+(?:the\\s+|your\\s+|all\\s+|any\\s+){0,2}(?:openai|anthropic|content|safety|usage|ethical|moderation)(?:['’]s)?\\s+(?:content\\s+)?(?:policy|policies|guidelines|filters?|rules|restrictions|guardrails)\\b`),
  },
  { id: 'without_restrictions', weight: 0.3, pattern: rx(`\\bwithout\\s+(?:any\\s+)?(?:restrictions|censorship|filters|filtering|limitations|moral\\s+constraints|ethical\\s+(?:guidelines|constraints)|guardrails)\\b`) },
  { id: 'stay_in_character', weight: 0.2, pattern: rx('\\bstay\\s+in\\s+character\\b') },
  { id: 'chatml_system', weight: 0.8, pattern: rx('<\\|im_start\\|>\\s*system\\b') },
  { id: 'special_tokens', weight: 0.5, pattern: rx('<\\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\\|>') },
  { id: 'llama_markers', weight: 0.5, pattern: rx('\\[/?INST\\]|<</?SYS>>', 'g') },
  { id: 'markdown_role_header', weight: 0.55, pattern: rx('(?:^|\\n)[ \\t]*#{1,6}[ \\t]*(?:system|assistant|developer)(?:[ \\t]+(?:prompt|message|instructions?))?[ \\t]*:') },
  { id: 'role_prefix', weight: 0.35, pattern: rx('(?:^|\\n)[ \\t]*(?:system|developer)(?:[ \\t]+(?:prompt|message))?[ \\t]*:[ \\t]*\\S') },
  { id: 'fake_boundary', weight: 0.3, pattern: rx('\\bend\\s+of\\s+(?:the\\s+)?(?:system\\s+)?(?:prompt|instructions)\\b|\\b(?:system|admin|root)\\s+override\\b') },
];

interface RuleHit {
  rule: InjectionRule;
  start: number;
  end: number;
}

function firstHit(rule: InjectionRule, text: string): RuleHit | undefined {
  for (const m of text.matchAll(rule.pattern)) {
    if (rule.confirm && !rule.confirm(m[0])) continue;
    // Line-anchored rules match the newline before the line; the finding starts on the line.
    const lead = m[0].length - m[0].replace(/^\n/, '').length;
    return { rule, start: m.index + lead, end: m.index + m[0].length };
  }
  return undefined;
}

/**
 * Words (lower case, single-spaced) at least one of which every match of a rule contains: a rule whose words are
 * all absent cannot match, so its regular expression is not run. Ordinary prompts lack most of
 * them, which makes the scan several times cheaper. Derived from the patterns above; the labelled
 * corpus and the unit tests run with them.
 */
const HINTS: Readonly<Record<string, readonly string[]>> = {
  override_instructions: ['ignore', 'disregard', 'forget', 'override', 'bypass', 'skip', 'discard', 'abandon', 'neglect', 'set'],
  forget_everything: ['ignore', 'disregard', 'forget'],
  new_instructions: ['instruction', 'from now'],
  reveal_system_prompt: ['your'],
  reveal_the_system_prompt: ['prompt', 'text'],
  dan: ['anything now', 'dan'],
  dan_name: ['dan'],
  developer_mode: ['mode'],
  developer_mode_mention: ['mode'],
  jailbreak_word: ['jail'],
  no_longer_bound: ['you are', "you 're", 'you \u2019re', 'you will', 'you no', 'you have', 'you don', 'free from', 'free of'],
  pretend_no_restrictions: ['pretend', 'imagine', 'act as if', 'suppose', 'assume'],
  unfiltered_persona: ['act as', 'act like', 'behave as', 'behave like', 'respond as', 'respond like', 'answer as', 'answer like', 'reply as', 'reply like', 'roleplay as', 'roleplay like', 'role-play as', 'role-play like', 'pose as', 'pose like', 'you are'],
  ignore_policy: ['ignore', 'bypass', 'disregard', 'violate', 'break', 'circumvent', 'disable'],
  without_restrictions: ['without'],
  stay_in_character: ['character'],
  chatml_system: ['<|im_start|>'],
  special_tokens: ['<|'],
  llama_markers: ['inst]', '<<'],
  markdown_role_header: ['#'],
  role_prefix: ['system', 'developer'],
  fake_boundary: ['end of', 'override'],
};

/**
 * Every hint in one pass: a zero-width match at each position that starts a hint, the longest
 * alternative first. Two hints starting at the same position are prefixes of each other, so the
 * recorded one stands for all of them: each hint enables the rules of every hint it starts with.
 */
const ALL_HINTS = [...new Set(Object.values(HINTS).flat())].sort((a, b) => b.length - a.length);
const HINT_SCAN = new RegExp(`(?=(${ALL_HINTS.map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}))`, 'g');
const RULES_OF_HINT = new Map<string, number[]>(
  ALL_HINTS.map((f) => [f, INJECTION_RULES.flatMap((r, i) => ((HINTS[r.id] ?? []).some((h) => f.startsWith(h)) ? [i] : []))]),
);
const UNHINTED = INJECTION_RULES.flatMap((r, i) => (HINTS[r.id] ? [] : [i]));

/** Which rules can match `text`: those whose hints it contains (lower case, whitespace runs as one space). */
function candidateRules(text: string): boolean[] {
  const run = new Array<boolean>(INJECTION_RULES.length).fill(false);
  for (const i of UNHINTED) run[i] = true;
  // Whitespace runs as one space, so that hints of several words match however spaced; single
  // spaces (nearly all whitespace) are left alone rather than replaced one by one.
  const lower = text.toLowerCase().replace(/\s{2,}|[^\S ]/g, ' ');
  HINT_SCAN.lastIndex = 0;
  for (let m = HINT_SCAN.exec(lower); m; m = HINT_SCAN.exec(lower)) {
    for (const i of RULES_OF_HINT.get(m[1]!)!) run[i] = true;
    HINT_SCAN.lastIndex = m.index + 1;
  }
  return run;
}

/**
 * Each rule's first confirmed match, and the clamped sum of the weights of the rules that fired.
 * `everyRule` skips the hint prefilter (the tests compare both ways).
 */
export function scoreInjection(text: string, everyRule = false): { score: number; hits: RuleHit[] } {
  const hits: RuleHit[] = [];
  const run = everyRule ? undefined : candidateRules(text);
  for (let i = 0; i < INJECTION_RULES.length; i++) {
    if (run && !run[i]) continue;
    const rule = INJECTION_RULES[i]!;
    const hit = firstHit(rule, text);
    if (hit) hits.push(hit);
  }
  const sum = hits.reduce((s, h) => s + h.rule.weight, 0);
  return { score: Math.min(1, Math.round(sum * 1000) / 1000), hits };
}

export function createInjectionDetector(opts: InjectionOptions = {}): Detector {
  const threshold = opts.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`injection threshold must be within 0..1, got ${threshold}`);
  const detect = (text: string): Finding[] => {
    const { score, hits } = scoreInjection(text);
    if (hits.length === 0 || score < threshold) return [];
    // Strongest rule; the earliest match among equals.
    const best = hits.reduce((a, b) => (b.rule.weight > a.rule.weight || (b.rule.weight === a.rule.weight && b.start < a.start) ? b : a));
    return [{ kind: 'prompt_injection', start: best.start, end: best.end, label: best.rule.id, score }];
  };
  return { kind: 'prompt_injection', detect };
}
