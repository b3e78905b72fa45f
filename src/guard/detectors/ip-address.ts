/**
 * IP addresses. IPv4: four decimal octets 0-255 without leading zeros, not part of a longer
 * dotted sequence (1.2.3.4.5, OIDs) or a word (v1.2.3.4), and not right after a version label.
 * IPv6: maximal runs of hex digits, colons and dots, parsed per RFC 4291 (eight groups, or fewer
 * around one "::", optionally ending in an IPv4 address); times (10:30:00) and MAC addresses
 * (six groups) fail the parse. Each character belongs to at most one run, so scanning is linear.
 */
import type { Finding } from '../types.ts';
import { hasDigit, isWordAt, isWordBefore, textBefore } from './text-scan.ts';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
// ASCII guards (V8 runs /u patterns slower); isWordBefore()/isWordAt() check other scripts.
const IPV4 = new RegExp(`(?<![A-Za-z0-9_.])${OCTET}(?:\\.${OCTET}){3}(?![A-Za-z0-9_]|\\.\\d)`, 'g');
const IPV4_EXACT = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const VERSION_CONTEXT = /\b(?:v|ver|version|release|build|firmware|sdk|api|rev|revision|patch|update)\s*[:=]?\s*$/i;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const MAX_IPV6_CHARS = 45;

function isIpv6Char(code: number): boolean {
  return (code >= 48 && code <= 58) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102) || code === 46;
}

export function isIpv6(candidate: string): boolean {
  if (candidate.length < 3 || candidate.length > MAX_IPV6_CHARS) return false;
  let groupsAvailable = 8;
  let body = candidate;
  const lastColon = candidate.lastIndexOf(':');
  const tail = candidate.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!IPV4_EXACT.test(tail)) return false;
    groupsAvailable = 6;
    body = candidate.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  if (body.includes('.')) return false;
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (s: string) => (s === '' ? [] : s.split(':'));
  if (halves.length === 2) {
    const groups = [...groupsOf(halves[0]!), ...groupsOf(halves[1]!)];
    // A bare "::" (C++ scopes, Markdown) is not worth reporting; require at least one group.
    if (groups.length === 0 && groupsAvailable === 8) return false;
    return groups.length <= groupsAvailable - 1 && groups.every((g) => HEX_GROUP.test(g));
  }
  const groups = groupsOf(body);
  return groups.length === groupsAvailable && groups.every((g) => HEX_GROUP.test(g));
}

function detectIpv6(text: string): Finding[] {
  const out: Finding[] = [];
  let colon = text.indexOf(':');
  while (colon !== -1) {
    let start = colon;
    while (start > 0 && isIpv6Char(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    while (end < text.length && isIpv6Char(text.charCodeAt(end))) end++;
    const next = text.indexOf(':', end);
    // Sentence punctuation around the address is not part of it.
    while (end > start && text[end - 1] === '.') end--;
    if (text[end - 1] === ':' && text[end - 2] !== ':') end--;
    if (text[start] === ':' && text[start + 1] !== ':') start++;
    const candidate = text.slice(start, end);
    if (end - start <= MAX_IPV6_CHARS && !isWordBefore(text, start) && !isWordAt(text, end) && countColons(candidate) >= 2 && isIpv6(candidate)) {
      out.push({ kind: 'ip_address', start, end, label: 'ipv6' });
    }
    colon = next;
  }
  return out;
}

function countColons(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 58) n++;
  return n;
}

export function detectIpAddresses(text: string): Finding[] {
  // IPv4 needs digits, IPv6 colons.
  if (!hasDigit(text) && !text.includes(':')) return [];
  const v6 = detectIpv6(text);
  const out: Finding[] = [...v6];
  let k = 0;
  for (const m of text.matchAll(IPV4)) {
    const start = m.index;
    const end = start + m[0].length;
    while (k < v6.length && v6[k]!.end <= start) k++;
    // The IPv4 tail of "::ffff:192.0.2.1" is already reported as part of the IPv6 address.
    if (k < v6.length && v6[k]!.start <= start) continue;
    if (isWordBefore(text, start) || isWordAt(text, end) || VERSION_CONTEXT.test(textBefore(text, start, 24))) continue;
    out.push({ kind: 'ip_address', start, end, label: 'ipv4' });
  }
  return out.sort((a, b) => a.start - b.start);
}
