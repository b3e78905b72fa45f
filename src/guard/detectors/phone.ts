/**
 * Phone numbers with phone-like structure only: international (+country or 00country), NANP
 * ((415) 555-2671, 415-555-2671, 1-800-555-0199) and European national numbers with a trunk 0
 * (030 12345678, 06 12 34 56 78, 020 7946 0958). Anything else (a bare 10-digit number, a
 * Spanish "612 345 678") counts only right after a phone label ("tel:", "call me at"), because
 * without one it is indistinguishable from an order number, an amount or an ID. Dates, versions,
 * SSN-shaped and glued numbers (IBAN digits, UUID parts) are excluded by shape.
 */
import type { Finding } from '../types.ts';
import { scanDigitRuns, type DigitGroup, type DigitRun } from './digit-runs.ts';
import { hasDigit, textBefore } from './text-scan.ts';

const MAX_WINDOW_GROUPS = 7;
/** " - ", " / ", "- " ...; never ". " (a sentence end between two numbers). */
const LONG_SEPARATOR = /^ ?[-/\u2013] ?$/;

/** A phone label right before the number: "Tel.: ", "call me at ", "mobile number is ", "my number is ". */
const PHONE_LABEL =
  /\b(?:my\s+number|phone|tel|telephone|mobile|cell|cellphone|fax|whatsapp|sms|call|text|ring|dial|landline|handy|telefon|téléphone|portable|móvil|movil|cellulare)[\s.:=#()\-]{0,4}(?:\b(?:me|us|him|her|them|number|no|nr|is|at|on)[\s.:=#()\-]{1,4}){0,3}$/i;

/** Identifier context right before the number: "order #", "invoice no. ", "tracking number: ". */
const ID_CONTEXT =
  /(?:#\s*|\b(?:order|invoice|inv|ticket|ref|reference|tracking|case|account|acct|sku|part|serial|po|isbn|issn|txn|transaction|confirmation|booking|shipment|parcel|customer|member|policy|claim|patent|id|iban|bic|card)[\s.:=#\-]{0,6}(?:(?:number|num|no|nr|id|code)[\s.:=#\-]{0,6})?)$/i;

type PhoneShape = 'international' | 'nanp' | 'national' | 'labelled';

function digitsIn(groups: DigitGroup[]): number {
  let count = 0;
  for (const g of groups) count += g.digits.length;
  return count;
}

const startsTwoToNine = (s: string) => s.charCodeAt(0) >= 50 && s.charCodeAt(0) <= 57;

function international(groups: DigitGroup[], plus: boolean): boolean {
  const first = groups[0]!;
  if (first.paren) return false;
  let count = digitsIn(groups);
  if (plus) {
    if (first.digits.startsWith('0')) return false;
  } else {
    // 00 + country code, written as a grouped number ("0049 30 1234567").
    if (!first.digits.startsWith('00') || first.digits.length > 5 || groups.length < 2) return false;
    if (first.digits.length === 2 ? groups[1]!.digits.startsWith('0') : first.digits[2] === '0') return false;
    count -= 2;
  }
  // "+44 (0)20 ...": the trunk 0 in parentheses is not dialled.
  if (groups[1]?.paren && groups[1].digits === '0') count -= 1;
  return count >= 8 && count <= 15;
}

function nanp(groups: DigitGroup[]): boolean {
  const k = groups.length === 4 && groups[0]!.digits === '1' && !groups[0]!.paren ? 1 : 0;
  if (groups.length - k !== 3) return false;
  const [area, exchange, line] = [groups[k]!, groups[k + 1]!, groups[k + 2]!];
  if (area.digits.length !== 3 || exchange.digits.length !== 3 || line.digits.length !== 4) return false;
  // Real area codes never start with 0 or 1; exchanges don't either, but placeholders such as
  // (555) 123-4567 are common and as phone-shaped, so only the area code is checked.
  if (exchange.paren || line.paren || !startsTwoToNine(area.digits)) return false;
  if (area.paren) return exchange.sep === '' || exchange.sep === ' ' || exchange.sep === '-';
  return [' ', '-', '.'].includes(exchange.sep) && [' ', '-', '.'].includes(line.sep);
}

function national(groups: DigitGroup[]): boolean {
  const first = groups[0]!;
  if (groups.length < 2 || !first.digits.startsWith('0') || first.digits.startsWith('00')) return false;
  if (first.digits.length < 2 || first.digits.length > 5) return false;
  const count = digitsIn(groups);
  if (count < 9 || count > 12) return false;
  for (const g of groups.slice(1)) if (g.paren || g.digits.length < 2 || g.digits.length > 8) return false;
  // The area-code separator may differ ("08-123 456 78"); the rest must agree.
  const rest = groups.slice(2).map((g) => g.sep);
  if (rest.some((s) => s !== rest[0])) return false;
  // SSN shape (078-05-1120) is not a phone number.
  const sizes = groups.map((g) => g.digits.length).join(',');
  if (sizes === '3,2,4' && groups[1]!.sep === '-' && groups[2]!.sep === '-') return false;
  return true;
}

const isSpace = (sep: string) => sep.trim() === '';

/**
 * The shape of groups `from..to` of a run. A window inside a longer run must not cut through a
 * dash or dot ("978-1-415-555-2671"), and the trunk-0 and unlabelled shapes, the weakest, must
 * span the whole run (else "4000 0566 5566 5556" would hide "0566 5566 5556").
 */
function shapeOf(run: DigitRun, from: number, to: number, text: string): PhoneShape | undefined {
  const all = run.groups;
  const count = run.digitsBefore[to + 1]! - run.digitsBefore[from]!;
  // No phone shape has fewer than 7 or more than 17 digits (with "00" and "(0)").
  if (count < 7 || count > 17) return undefined;
  const whole = from === 0 && to === all.length - 1;
  if ((from > 0 && !isSpace(all[from]!.sep)) || (to < all.length - 1 && !isSpace(all[to + 1]!.sep))) return undefined;
  const groups = all.slice(from, to + 1);
  if (run.plus && from === 0) return international(groups, true) ? 'international' : undefined;
  if (nanp(groups)) return 'nanp';
  if (!whole) return undefined;
  if (international(groups, false)) return 'international';
  if (national(groups)) return 'national';
  // Unstructured: right after a phone label.
  if (count <= 15 && groups.every((g) => g.digits.length >= 2) && PHONE_LABEL.test(textBefore(text, run.start, 40))) return 'labelled';
  return undefined;
}

export function detectPhones(text: string): Finding[] {
  // Every match contains digits; most prose has none, and this check is one short scan.
  if (!hasDigit(text)) return [];
  const out: Finding[] = [];
  const runs = scanDigitRuns(text, {
    separatorChars: ' .-/\u00a0\u2011\u2013',
    maxSeparatorChars: 3,
    isLongSeparator: (s) => LONG_SEPARATOR.test(s),
    parens: true,
    plus: true,
    minDigits: 7,
  });
  for (const run of runs) {
    if (run.glued) continue;
    const groups = run.groups;
    let from = 0;
    while (from < groups.length) {
      let matched = -1;
      for (let to = Math.min(groups.length, from + MAX_WINDOW_GROUPS) - 1; to >= from; to--) {
        const shape = shapeOf(run, from, to, text);
        if (!shape) continue;
        const start = from === 0 ? run.start : groups[from]!.start;
        if (ID_CONTEXT.test(textBefore(text, start, 40))) break;
        out.push({ kind: 'phone', start, end: groups[to]!.end, label: shape });
        matched = to;
        break;
      }
      from = matched === -1 ? from + 1 : matched + 1;
    }
  }
  return out;
}
