/**
 * Credentials: vendor API keys recognisable by prefix and shape (OpenAI, Anthropic, AWS, GitHub,
 * Google, Slack, Stripe), JWTs whose header decodes to JSON with "alg", PEM private-key blocks,
 * passwords in URLs (scheme://user:password@host) and labelled AWS secret keys. Every pattern
 * starts with a literal prefix, has bounded repetition and a word-boundary guard, so each scan is
 * linear; ambiguous shapes are confirmed in code (JWT header, character mix of `sk-` keys).
 */
import type { Finding } from '../types.ts';
import { dropOverlaps } from './text-scan.ts';

interface SecretRule {
  label: string;
  pattern: RegExp;
  /** Capture group holding the secret itself (default: the whole match). */
  group?: number;
  /** Literals one of which every match contains (checked with `includes` before the pattern runs). */
  hints: readonly string[];
  /** Check `hints` against the lower-cased text. */
  hintsIgnoreCase?: boolean;
  confirm?: (secret: string) => boolean;
}

/** Random keys mix upper case, lower case and digits; "sk-learn-tutorial-for-beginners" does not. */
const looksRandom = (s: string) => /\d/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s);

const RULES: SecretRule[] = [
  { label: 'anthropic_api_key', pattern: /(?<![\w-])sk-ant-[a-z]{2,10}\d{0,3}-[A-Za-z0-9_-]{20,300}(?![\w-])/g, hints: ['sk-ant-'] },
  {
    label: 'openai_api_key',
    pattern: /(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,300}(?![\w-])/g,
    confirm: looksRandom,
    hints: ['sk-'],
  },
  { label: 'aws_access_key_id', pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g, hints: ['AKIA', 'ASIA'] },
  {
    label: 'aws_secret_access_key',
    pattern: /(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\s{0,3}[:=]\s{0,3}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
    group: 1,
    hints: ['secret'],
    hintsIgnoreCase: true,
  },
  { label: 'github_token', pattern: /(?<![\w-])gh[pousr]_[A-Za-z0-9]{36,251}(?![\w-])/g, hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'] },
  { label: 'github_token', pattern: /(?<![\w-])github_pat_[A-Za-z0-9_]{22,255}(?![\w-])/g, hints: ['github_pat_'] },
  { label: 'google_api_key', pattern: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g, hints: ['AIza'] },
  { label: 'slack_token', pattern: /(?<![\w-])xox[baprs]-[A-Za-z0-9-]{10,250}(?![\w-])/g, confirm: (s) => /\d/.test(s), hints: ['xox'] },
  { label: 'stripe_secret_key', pattern: /(?<![\w-])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,250}(?![\w-])/g, hints: ['_live_', '_test_'] },
  {
    // Any JSON object header base64url-encodes to "ey" ('{"', '{ "') or "ew" ('{\n').
    label: 'jwt',
    pattern: /(?<![\w.-])e[wy][A-Za-z0-9_-]{6,2000}\.[A-Za-z0-9_-]{2,16000}\.[A-Za-z0-9_-]{0,4000}(?![\w.-])/g,
    confirm: (token) => jwtHeaderHasAlg(token.slice(0, token.indexOf('.'))),
    hints: ['ey', 'ew'],
  },
  {
    label: 'url_credentials',
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]{1,256}:([^\s/@]{1,256})@/dgi,
    group: 1,
    // Placeholders ("****", "<password>", "${DB_PASS}") are not secrets.
    confirm: (password) => !/^(?:\*+|x+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%[A-Z_]+%)$/i.test(password),
    hints: ['://'],
  },
];

export function jwtHeaderHasAlg(segment: string): boolean {
  try {
    const json: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof json === 'object' && json !== null && typeof (json as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

const PEM_HEADER = /^-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY( BLOCK)?-----/;

/** Base64, whitespace, escaped newlines ("\\n" in JSON) and "Proc-Type: 4,ENCRYPTED" headers. */
function isPemBodyCode(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ||
    c === 43 || c === 47 || c === 61 || c === 32 || c === 9 || c === 10 || c === 13 || c === 92 || c === 58 || c === 44 || c === 45
  );
}

/**
 * PEM private keys: the BEGIN line, the body, and the matching END line. A body that stops
 * anywhere else (a truncated paste) is still reported up to where it stops, since a partial key
 * is still a leak. The body is scanned once, so unterminated headers cannot make this quadratic.
 */
function detectPrivateKeys(text: string): Finding[] {
  const out: Finding[] = [];
  let begin = text.indexOf('-----BEGIN ');
  while (begin !== -1) {
    const header = PEM_HEADER.exec(text.slice(begin, begin + 100));
    if (!header) {
      begin = text.indexOf('-----BEGIN ', begin + 1);
      continue;
    }
    const headerEnd = begin + header[0].length;
    const endMarker = `-----END ${header[1] ?? ''}PRIVATE KEY${header[2] ?? ''}-----`;
    let end = headerEnd;
    for (let c = text.charCodeAt(end); end < text.length && isPemBodyCode(c); c = text.charCodeAt(++end)) {
      if (c === 45 && text.startsWith('-----', end)) break;
    }
    if (text.startsWith(endMarker, end)) {
      end += endMarker.length;
    } else {
      while (end > headerEnd && /\s/.test(text[end - 1]!)) end--;
    }
    out.push({ kind: 'secret', start: begin, end, label: 'private_key' });
    begin = text.indexOf('-----BEGIN ', end);
  }
  return out;
}

/**
 * Something every rule's match contains, in one pass: most texts hold none of it, and then no
 * rule (nor its hint list) needs looking at. Keep in step with RULES.
 */
const ANY_RULE = /sk-|AKIA|ASIA|gh[pousr]_|github_pat_|AIza|xox[baprs]-|_live_|_test_|e[wy][A-Za-z0-9_-]{6}|:\/\/|[sS][eE][cC][rR][eE][tT]/;

export function detectSecrets(text: string): Finding[] {
  const found: Finding[] = detectPrivateKeys(text);
  if (!ANY_RULE.test(text)) return found;
  let lower: string | undefined;
  for (const rule of RULES) {
    const hay = rule.hintsIgnoreCase ? (lower ??= text.toLowerCase()) : text;
    if (!rule.hints.some((h) => hay.includes(h))) continue;
    for (const m of text.matchAll(rule.pattern)) {
      const [start, end] = rule.group === undefined ? [m.index, m.index + m[0].length] : m.indices![rule.group]!;
      if (rule.confirm && !rule.confirm(text.slice(start, end))) continue;
      found.push({ kind: 'secret', start, end, label: rule.label });
    }
  }
  return dropOverlaps(found);
}
