/**
 * A heuristic prompt-complexity classifier: length, code, math, multi-step instructions,
 * conversation depth and tool use add to a score; the score picks a tier. Pure and cheap
 * (regexes over the text); the signals are returned so a preview can explain the tier.
 */
import type { CanonicalRequest } from '../providers/canonical.ts';
import type { Tier } from './types.ts';

export interface ComplexityResult {
  tier: Tier;
  score: number;
  signals: string[];
}

// Code: a fenced block, unmistakable syntax, or a request to write or fix code. Everyday words
// that are also keywords ("let me know", "return policy", "which class") do not count alone.
const CODE_SYNTAX = /```|=>|\b(def|function|class)\s+\w+\s*[(:{]|\bimport\s+[\w{]|^\s*(const|let|var)\s+\w+\s*=|;\s*$|\bSELECT\b[\s\S]*\bFROM\b/m;
const CODE_TASK = /\b(write|implement|debug|fix|refactor|optimi[sz]e)\b.{0,40}\b(function|script|program|code|query|class|method|regex|select|sql|python|javascript|typescript|java|rust|golang|bash)\b/i;
// Math: notation and vocabulary; plain numbers with slashes (dates, "24/7") are not math.
const MATH = /\\(frac|sum|int|sqrt)|[∑∫√∂≤≥]|\b(prove|proof|derivative|integral|equation|theorem|lemma|matrix|eigen\w*|probability)\b|\w\s*\^\s*\d|\d\s*[*×]\s*\d/i;
const STEPS = /^\s*(\d+[.)]|[-*])\s+\S/m;
const STEP_WORDS = /\b(step by step\b|first,|then,|finally\b|after that\b|for each\b)/i;
const ANALYSIS = /\b(analy[sz]e|compare|design|architecture|trade-?offs?|optimi[sz]e|refactor|debug|explain why|evaluate|critique)\b/i;

export function classifyComplexity(req: CanonicalRequest, promptTokens: number): ComplexityResult {
  let score = 0;
  const signals: string[] = [];
  const add = (points: number, signal: string) => {
    score += points;
    signals.push(signal);
  };
  const text = req.messages
    .filter((m) => m.role === 'user' || m.role === 'system')
    .map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p.text : '')).join(' ')))
    .join('\n');

  if (promptTokens >= 2000) add(3, `long prompt (${promptTokens} tokens)`);
  else if (promptTokens >= 500) add(1.5, `medium prompt (${promptTokens} tokens)`);
  if (CODE_SYNTAX.test(text) || CODE_TASK.test(text)) add(2, 'code');
  if (MATH.test(text)) add(2, 'math');
  const numbered = text.match(/^\s*(\d+[.)]|[-*])\s+\S/gm)?.length ?? 0;
  if (numbered >= 3 || (STEPS.test(text) && STEP_WORDS.test(text))) add(1.5, 'multi-step instructions');
  else if (STEP_WORDS.test(text)) add(0.75, 'sequencing words');
  // Analysis that is also sequenced is a multi-step task even without a list.
  if (ANALYSIS.test(text)) add(STEP_WORDS.test(text) ? 1.5 : 1, 'analysis');
  const turns = req.messages.filter((m) => m.role === 'user').length;
  if (turns > 8) add(2, `deep conversation (${turns} turns)`);
  else if (turns > 3) add(1, `conversation (${turns} turns)`);
  if (req.tools?.length) add(1, 'tools');

  const tier: Tier = score >= 4.5 ? 'complex' : score >= 2 ? 'moderate' : 'simple';
  return { tier, score, signals };
}
