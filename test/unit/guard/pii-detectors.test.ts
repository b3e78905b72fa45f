/**
 * PII detectors, one behaviour at a time: exact spans, labels, boundaries and the look-alikes
 * each one must reject. The labelled corpus (corpus.test.ts) measures overall quality.
 */
import { describe, expect, it } from 'vitest';
import { createPiiDetector } from '../../../src/guard/detectors/index.ts';
import { isIpv6 } from '../../../src/guard/detectors/ip-address.ts';
import { cardBrand, luhnValid } from '../../../src/guard/detectors/payment-card.ts';
import { ibanChecksumValid } from '../../../src/guard/detectors/iban.ts';
import { PII_KINDS, type PiiKind } from '../../../src/guard/types.ts';

const j = (...parts: string[]) => parts.join('');

/** [matched substring, label] for each finding of `kind` in `text`. */
function found(kind: PiiKind, text: string): Array<[string, string | undefined]> {
  return createPiiDetector(kind)
    .detect(text)
    .map((f) => {
      expect(f.kind).toBe(kind);
      return [text.slice(f.start, f.end), f.label];
    });
}
const values = (kind: PiiKind, text: string) => found(kind, text).map(([v]) => v);

describe('createPiiDetector', () => {
  it('creates one detector per kind and rejects unknown kinds', () => {
    for (const kind of PII_KINDS) expect(createPiiDetector(kind).kind).toBe(kind);
    expect(() => createPiiDetector('passport' as PiiKind)).toThrow(/unknown PII kind "passport"/);
    expect(() => createPiiDetector('toString' as PiiKind)).toThrow(/unknown PII kind/);
  });

  it('returns findings in order, with offsets into the original string', () => {
    const text = '😀 a@b.io then c@d.io';
    const findings = createPiiDetector('email').detect(text);
    expect(findings.map((f) => text.slice(f.start, f.end))).toEqual(['a@b.io', 'c@d.io']);
    expect(findings[0]!.start).toBe(3);
  });
});

describe('email', () => {
  it('drops trailing punctuation and surrounding brackets or quotes', () => {
    expect(values('email', 'Write to <a.b@example.com>, "c@example.org". Or (d@x.co.uk)!')).toEqual(['a.b@example.com', 'c@example.org', 'd@x.co.uk']);
  });

  it('accepts plus tags, subdomains, IDN domains and punycode TLDs', () => {
    expect(values('email', 'x+tag@mail.example.com info@müller.de y@firma.xn--p1ai')).toEqual(['x+tag@mail.example.com', 'info@müller.de', 'y@firma.xn--p1ai']);
  });

  it('rejects handles, package versions, image names, hosts without TLD and invalid dots', () => {
    expect(values('email', '@john lodash@4.17.21 icon@2x.png root@localhost a..b@x.com. .@x.com c@-x.com d@x..com')).toEqual(['b@x.com']);
  });

  it('treats URL userinfo as credentials, not an address', () => {
    expect(values('email', 'https://token123@github.com/x and postgres://u:p4ss@db.example.com/app')).toEqual([]);
    expect(values('email', 'https://example.com/contact?to=sales@example.com')).toEqual(['sales@example.com']);
  });

  it('rejects a local part longer than 64 characters instead of cutting it', () => {
    expect(values('email', `${'a'.repeat(65)}@example.com`)).toEqual([]);
    expect(values('email', `${'a'.repeat(64)}@example.com`)).toHaveLength(1);
  });
});

describe('phone', () => {
  it('labels the shape it recognised', () => {
    expect(found('phone', 'Call +1 (415) 555-2671, (212) 555-0147, 030 12345678 or tel: 612 345 678')).toEqual([
      ['+1 (415) 555-2671', 'international'],
      ['(212) 555-0147', 'nanp'],
      ['030 12345678', 'national'],
      ['612 345 678', 'labelled'],
    ]);
  });

  it('needs a label for unstructured numbers', () => {
    expect(values('phone', 'ref 4155552671 and 612 345 678')).toEqual([]);
    expect(values('phone', 'my cell is 4155552671')).toEqual(['4155552671']);
  });

  it('rejects dates, versions, IPs, SSN shapes, ISBNs and glued digits', () => {
    const text = '2024-01-15 15.01.2024 10.0.19041.1234 192.168.100.200 078-05-1120 978-3-16-148410-0 ID0612345678 DE89 3704 0044 0532 0130 00';
    expect(values('phone', text)).toEqual([]);
  });

  it('rejects identifier context: order, invoice, ticket numbers and #', () => {
    expect(values('phone', 'Order #415-555-2671, invoice no. 020 7946 0958, ticket: 06 12 34 56 78')).toEqual([]);
  });

  it('does not read a phone number out of a longer digit sequence', () => {
    expect(values('phone', 'Card 4000 0566 5566 5556 12/26')).toEqual([]);
    expect(values('phone', '978-1-415-555-2671')).toEqual([]);
  });

  it('rejects NANP area codes starting with 0 or 1', () => {
    expect(values('phone', '(115) 555-2671 and 123-456-7890')).toEqual([]);
    expect(values('phone', '(555) 123-4567')).toEqual(['(555) 123-4567']);
  });
});

describe('payment_card', () => {
  it('labels brands by IIN range', () => {
    const cards = ['4111 1111 1111 1111', '5555 5555 5555 4444', '2223 0031 2200 3222', '3782 822463 10005', '6011 1111 1111 1117', '3622 720627 1667', '3530 1113 3330 0000'];
    expect(found('payment_card', cards.join(' ; '))).toEqual([
      ['4111 1111 1111 1111', 'visa'],
      ['5555 5555 5555 4444', 'mastercard'],
      ['2223 0031 2200 3222', 'mastercard'],
      ['3782 822463 10005', 'amex'],
      ['6011 1111 1111 1117', 'discover'],
      ['3622 720627 1667', 'diners'],
      ['3530 1113 3330 0000', 'jcb'],
    ]);
  });

  it('requires Luhn validity and a known IIN for the length', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(cardBrand('4111111111111111')).toBe('visa');
    expect(cardBrand('411111111111111')).toBeUndefined(); // 15-digit Visa does not exist
    expect(cardBrand('1718872102344036')).toBeUndefined();
    expect(values('payment_card', '4111 1111 1111 1112, 1718872102344036, 378282246310006')).toEqual([]);
  });

  it('rejects mixed separators, odd groupings, longer digit runs and glued numbers', () => {
    expect(values('payment_card', '4111-1111 1111-1111 41 11 11 11 11 11 11 11 41111111111111110 X4111111111111111 4111111111111111.50')).toEqual([]);
  });

  it('finds the card inside a run that continues with an expiry or CVC', () => {
    expect(values('payment_card', 'pay 100 4111 1111 1111 1111 12 26')).toEqual(['4111 1111 1111 1111']);
  });
});

describe('iban', () => {
  it('accepts compact and grouped forms and labels the country', () => {
    expect(found('iban', 'DE89 3704 0044 0532 0130 00 / GB82WEST12345698765432 / no93 8601 1117 947')).toEqual([
      ['DE89 3704 0044 0532 0130 00', 'DE'],
      ['GB82WEST12345698765432', 'GB'],
      ['no93 8601 1117 947', 'NO'],
    ]);
  });

  it('requires mod-97 = 1, the registered length and clean edges', () => {
    expect(ibanChecksumValid('DE89370400440532013000')).toBe(true);
    expect(ibanChecksumValid('DE89370400440532013001')).toBe(false);
    const text = 'DE89 3704 0044 0532 0130 01, DE89 3704 0044 0532 0130, DE89370400440532013000X, DE89 37040044 0532013000, XDE89370400440532013000';
    expect(values('iban', text)).toEqual([]);
  });
});

describe('us_ssn', () => {
  it('accepts AAA-GG-SSSS anywhere and bare or spaced nine digits only after a label', () => {
    expect(found('us_ssn', '477-41-3400; SSN: 246510756; social security no. 549 09 5705; plain 246510756')).toEqual([
      ['477-41-3400', 'dashed'],
      ['246510756', 'labelled'],
      ['549 09 5705', 'labelled'],
    ]);
  });

  it('excludes never-issued areas, groups and serials', () => {
    expect(values('us_ssn', '000-12-3456 666-12-3456 900-12-3456 999-12-3456 123-00-4567 123-45-0000 SSN 666123456')).toEqual([]);
  });

  it('rejects longer dashed codes', () => {
    expect(values('us_ssn', 'part 555-12-3456-7 and 1-555-12-3456')).toEqual([]);
  });
});

describe('ip_address', () => {
  it('labels IPv4 and IPv6, including compressed and IPv4-mapped forms', () => {
    expect(found('ip_address', '10.0.0.1, ::1, fe80::1, 2001:db8:0:0:0:0:2:1, ::ffff:192.0.2.1.')).toEqual([
      ['10.0.0.1', 'ipv4'],
      ['::1', 'ipv6'],
      ['fe80::1', 'ipv6'],
      ['2001:db8:0:0:0:0:2:1', 'ipv6'],
      ['::ffff:192.0.2.1', 'ipv6'],
    ]);
  });

  it('rejects versions, out-of-range octets, leading zeros and longer dotted sequences', () => {
    expect(values('ip_address', '1.2.3 1.2.3.4.5 256.1.1.1 01.2.3.4 v1.2.3.4 version 1.0.0.0 1.3.6.1.4.1')).toEqual([]);
  });

  it('parses IPv6 strictly', () => {
    for (const ok of ['::1', '1::', '2001:db8::1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '::ffff:10.0.0.1']) {
      expect(isIpv6(ok), ok).toBe(true);
    }
    // Valid, but a bare "::" in text is far more often C++ or Markdown than an address.
    expect(isIpv6('::')).toBe(false);
    for (const bad of ['1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::1', '10:30:00', '00:1A:2B:3C:4D:5E', '::1.2.3', 'g::1']) {
      expect(isIpv6(bad), bad).toBe(false);
    }
    expect(values('ip_address', 'at 10:30:00, MAC 00:1A:2B:3C:4D:5E, std::vector, a bare :: here')).toEqual([]);
  });
});

describe('secret', () => {
  const cases: Array<[string, string]> = [
    [j('s', 'k-', 'QJIqfwj1nufv7M4dhJUYT3BlbkFJFRR2xBfsltaLEoH2tHiN'), 'openai_api_key'],
    [j('s', 'k-proj-', 'fMhlwuscUXObVPMjewkzkRf9bjC6zbEqd1MMffXr8Dkk'), 'openai_api_key'],
    [j('s', 'k-ant-api03-', 'gktNIa8uUyRAYLaYPq9wuxduycB-PWQKpcywU6NgAFDUcQ_pkYLvjAFs'), 'anthropic_api_key'],
    [j('AK', 'IA', 'NLSZFRTEHRFPUBSI'), 'aws_access_key_id'],
    [j('AS', 'IA', 'N7DDXP5G7E2K55SB'), 'aws_access_key_id'],
    [j('gh', 'p_', 'Pw2bLbnvdPTZtiQH3QFYurxOltbBeaGeOq2B'), 'github_token'],
    [j('gh', 'o_', 'ulCjEBjEgVG5rNq6Gs1FdoC5JAsWcIiobKPQ'), 'github_token'],
    [j('github', '_pat_', 'ddWe3Xjw18EgOJERgsIR8Y_DcIhPVieD4keSUD2oW3YW'), 'github_token'],
    [j('AI', 'za', 'Hcoudf45qzFOq_turInx_6lA2_4z1jTNQwT'), 'google_api_key'],
    [j('xo', 'xb-', '561512342016-6751522473191-X8GfI3ki7JDXFyUQnux2emN0'), 'slack_token'],
    [j('sk', '_live_', 'UWbxMA25M5asvLfn136j9IyJ'), 'stripe_secret_key'],
    [j('rk', '_live_', '98uvbHWmbGEsyiwlz4FMzuYzLP8s'), 'stripe_secret_key'],
  ];

  it.each(cases)('recognises %s as %s', (token, label) => {
    expect(found('secret', `key: ${token}.`)).toEqual([[token, label]]);
  });

  it('recognises a labelled AWS secret access key on its own', () => {
    // The secret itself carries no prefix: only the label ("secret", any case) gives it away.
    const secret = j('wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYEXAMPLEKEY');
    expect(found('secret', `AWS_SECRET_ACCESS_KEY = ${secret}`)).toEqual([[secret, 'aws_secret_access_key']]);
    expect(found('secret', `Secret_Access_Key: "${secret}"`)).toEqual([[secret, 'aws_secret_access_key']]);
  });

  it('needs a JWT header that decodes to JSON with "alg"', () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '1' })}.c2lnbmF0dXJl`;
    const spaced = `${Buffer.from('{ "alg": "none" }').toString('base64url')}.${b64({ sub: '1' })}.`;
    const noAlg = `${b64({ typ: 'JWT' })}.${b64({ sub: '1' })}.c2lnbmF0dXJl`;
    expect(found('secret', `Bearer ${jwt} / ${spaced} / ${noAlg}`)).toEqual([
      [jwt, 'jwt'],
      [spaced, 'jwt'],
    ]);
  });

  it('spans PEM private keys from BEGIN to END, or to the end of a truncated body', () => {
    const begin = (t: string) => j('-----BEGIN ', t, 'PRIVATE', ' KEY-----');
    const end = (t: string) => j('-----END ', t, 'PRIVATE', ' KEY-----');
    const rsa = `${begin('RSA ')}\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n${end('RSA ')}`;
    const cut = `${begin('OPENSSH ')}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ`;
    expect(found('secret', `a\n${rsa}\nb\n${cut}\n`)).toEqual([
      [rsa, 'private_key'],
      [cut, 'private_key'],
    ]);
    expect(values('secret', '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----')).toEqual([]);
  });

  it('finds passwords in URLs but not placeholders', () => {
    expect(found('secret', 'redis://default:hunter2x@cache:6379 and mysql://u:${PASS}@db/x and amqp://u:****@mq')).toEqual([['hunter2x', 'url_credentials']]);
  });

  it('rejects slugs, hashes, UUIDs and bare prefixes', () => {
    const text = 'sk-learn-tutorial-for-beginners-2024 3f786850e387550fdab836ed7e6dc881de23001b 123e4567-e89b-12d3-a456-426614174000 AKIA ghp_ xoxb-';
    expect(values('secret', text)).toEqual([]);
  });
});
