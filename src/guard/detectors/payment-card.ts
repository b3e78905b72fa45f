/**
 * Payment card numbers: 13-19 digits, contiguous or grouped with one kind of separator (space or
 * dash) in the usual layouts (4-4-4-4[-3], 4-6-5, 4-6-4), inside a known IIN range for the
 * length, and Luhn-valid. Requiring both the IIN range and the checksum is what keeps order
 * numbers, timestamps and look-alikes out: a random digit string passes Luhn one time in ten.
 */
import type { Finding } from '../types.ts';
import { scanDigitRuns, type DigitGroup } from './digit-runs.ts';
import { hasDigit } from './text-scan.ts';

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb';

const MAX_WINDOW_GROUPS = 5;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const inRange = (digits: string, size: number, low: number, high: number) => {
  const prefix = Number(digits.slice(0, size));
  return prefix >= low && prefix <= high;
};

/** The brand whose IIN range and allowed lengths fit, or undefined. */
export function cardBrand(digits: string): CardBrand | undefined {
  const len = digits.length;
  if (digits.startsWith('4')) return len === 13 || len === 16 || len === 19 ? 'visa' : undefined;
  if (inRange(digits, 2, 51, 55) || inRange(digits, 4, 2221, 2720)) return len === 16 ? 'mastercard' : undefined;
  if (digits.startsWith('34') || digits.startsWith('37')) return len === 15 ? 'amex' : undefined;
  if (digits.startsWith('6011') || inRange(digits, 3, 644, 649) || digits.startsWith('65') || inRange(digits, 6, 622126, 622925)) {
    return len >= 16 && len <= 19 ? 'discover' : undefined;
  }
  if (inRange(digits, 4, 3528, 3589)) return len >= 16 && len <= 19 ? 'jcb' : undefined;
  if (inRange(digits, 3, 300, 305) || digits.startsWith('3095') || digits.startsWith('36') || digits.startsWith('38') || digits.startsWith('39')) {
    return len >= 14 && len <= 19 ? 'diners' : undefined;
  }
  return undefined;
}

function wellGrouped(groups: DigitGroup[]): boolean {
  if (groups.length === 1) return true;
  const sep = groups[1]!.sep;
  if (groups.some((g, i) => i > 0 && g.sep !== sep)) return false;
  const sizes = groups.map((g) => g.digits.length);
  const layout = sizes.join('-');
  if (layout === '4-6-5' || layout === '4-6-4') return true;
  const last = sizes[sizes.length - 1]!;
  return sizes.slice(0, -1).every((s) => s === 4) && last >= 1 && last <= 4;
}

export function detectPaymentCards(text: string): Finding[] {
  // Every match contains digits; most prose has none, and this check is one short scan.
  if (!hasDigit(text)) return [];
  const out: Finding[] = [];
  const runs = scanDigitRuns(text, { separatorChars: ' -', maxSeparatorChars: 1, parens: false, plus: false, minDigits: 13 });
  for (const run of runs) {
    if (run.glued) continue;
    const groups = run.groups;
    let from = 0;
    while (from < groups.length) {
      let matched = -1;
      for (let to = Math.min(groups.length, from + MAX_WINDOW_GROUPS) - 1; to >= from; to--) {
        const length = run.digitsBefore[to + 1]! - run.digitsBefore[from]!;
        if (length < 13 || length > 19) continue;
        const window = groups.slice(from, to + 1);
        if (!wellGrouped(window)) continue;
        const digits = window.map((g) => g.digits).join('');
        if (!luhnValid(digits)) continue;
        const brand = cardBrand(digits);
        if (!brand) continue;
        out.push({ kind: 'payment_card', start: window[0]!.start, end: window[window.length - 1]!.end, label: brand });
        matched = to;
        break;
      }
      from = matched === -1 ? from + 1 : matched + 1;
    }
  }
  return out;
}
