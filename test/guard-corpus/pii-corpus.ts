/**
 * Labelled PII corpus for the guardrail detectors: realistic sentences with the PII each one
 * contains (kind + exact substring; every occurrence of the substring is expected), hard
 * negatives that look like PII but are not (Luhn-invalid card numbers, bad IBAN checksums,
 * never-issued SSNs, versions, dates, order numbers, UUIDs, hashes, short codes...), and clean
 * text. Card numbers, IBANs and SSNs are synthetic (generated with valid check digits) or
 * published test values; secrets are random strings in the vendors' formats, assembled from
 * parts below so that secret scanners do not flag this file.
 */
import type { PiiKind } from '../../src/guard/types.ts';

export interface ExpectedPii {
  kind: PiiKind;
  /** The exact substring; every occurrence in the text is one expected finding. */
  value: string;
}

export interface CorpusSample {
  id: string;
  text: string;
  expect: ExpectedPii[];
  /** Why a hard negative is not PII. */
  note?: string;
}

const j = (...parts: string[]) => parts.join('');

// Vendor prefixes, split so the file holds no literal token.
const SK = j('s', 'k-');
const SK_PROJ = j('s', 'k-proj-');
const SK_SVC = j('s', 'k-svcacct-');
const SK_ANT = j('s', 'k-ant-api03-');
const SK_ANT_ADMIN = j('s', 'k-ant-admin01-');
const AKIA = j('AK', 'IA');
const ASIA = j('AS', 'IA');
const GHP = j('gh', 'p_');
const GHO = j('gh', 'o_');
const GHS = j('gh', 's_');
const GH_PAT = j('github', '_pat_');
const AIZA = j('AI', 'za');
const XOXB = j('xo', 'xb-');
const XOXP = j('xo', 'xp-');
const SK_LIVE = j('sk', '_live_');
const RK_LIVE = j('rk', '_live_');
const BEGIN = (type: string) => j('-----BEGIN ', type, 'PRIVATE', ' KEY-----');
const END = (type: string) => j('-----END ', type, 'PRIVATE', ' KEY-----');

const OPENAI_LEGACY = j(SK, 'QJIqfwj1nufv7M4dhJUYT3BlbkFJFRR2xBfsltaLEoH2tHiN');
const OPENAI_PROJ = j(SK_PROJ, 'fMhlwuscUXObVPMjewkzkRf9bjC6zbEqd1MMffXr8DkkXqbbxH0x5YGeNSDlEqXqmaYd');
const OPENAI_PROJ_2 = j(SK_PROJ, 'cc4Wz34aeGrFZX6YT_E6eka3o1B8wKHKxejxtCcZ-_94x0exe3CvYQjw1Kd3jhttlcLMBkvIiVA5nBVN66D_452GH2wVMPSIobFp');
const OPENAI_SVC = j(SK_SVC, 'U6EpN4dQJzEI66h-aJF__WFGNdC4Oq08twSbp5YOgw4keTUTI5W4VT-MC54cHr4b');
const ANTHROPIC = j(SK_ANT, '1-gktNIa8uUyRAYLaYPq9wuxduycB-PWQKpcywU6NgAFDUcQ_pkYLvjAFsvzB8JXGNANySSQQ26DseSA-slkbu-LpOQBwAA');
const ANTHROPIC_ADMIN = j(SK_ANT_ADMIN, 'U6ROOLKKFPDbOuA4OAkoho9EcW0kZvdZO2TM9hRYZbWHmJPOYDL7Q29vX2vpV63kLNRJoWJ8PxaeFwnPAA');
const AWS_KEY = j(AKIA, 'NLSZFRTEHRFPUBSI');
const AWS_TEMP_KEY = j(ASIA, 'N7DDXP5G7E2K55SB');
const AWS_SECRET = 'S2taKLb9jVCEAWFh6xLiPWfvxC7lOBD+2H6rW7f7';
const GITHUB_PAT_CLASSIC = j(GHP, 'Pw2bLbnvdPTZtiQH3QFYurxOltbBeaGeOq2B');
const GITHUB_OAUTH = j(GHO, 'ulCjEBjEgVG5rNq6Gs1FdoC5JAsWcIiobKPQ');
const GITHUB_APP = j(GHS, '2CsWyLhI308xTbLsfR7cBvA1Sx0F0UZ5ehHY');
const GITHUB_FINE = j(GH_PAT, 'ddWe3Xjw18EgOJERgsIR8Y_DcIhPVieD4keSUD2oW3YWlqxYlIY6gmjDkq37ssNHN5N7wSJ5s8554GrxQR');
const GOOGLE = j(AIZA, 'Hcoudf45qzFOq_turInx_6lA2_4z1jTNQwT');
const GOOGLE_2 = j(AIZA, 'M8S0qFmqC3AUC6_hEGW8HBapQbIzjkf5YMh');
const SLACK_BOT = j(XOXB, '561512342016-6751522473191-X8GfI3ki7JDXFyUQnux2emN0');
const SLACK_USER = j(XOXP, '987700131451-898787376499-7632027023896-e00cee77d349e68e1a313e14fead1fac');
const STRIPE = j(SK_LIVE, 'UWbxMA25M5asvLfn136j9IyJ');
const STRIPE_RESTRICTED = j(RK_LIVE, '98uvbHWmbGEsyiwlz4FMzuYzLP8sYAe632FWTgpv4ddbEKiRQNevlIAFh4n4dUBMndjHNB4OonBzYnZYoAYjAxpfl1R08BhFVY5');
const JWT_HS256 = j(
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.',
  'eyJzdWIiOiJ1c2VyXzg4MTIiLCJuYW1lIjoiQW5hIFNpbHZhIiwiaWF0IjoxNzE2MjM5MDIyfQ.',
  'gvmFGw7t4YHa6ZJOjI6_5i9AXeJ1E6WjPxnGvS-TciM',
);
const JWT_RS256 = j(
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6IjIwMjQtMDcifQ.',
  'eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20iLCJhdWQiOiJhcGkiLCJleHAiOjE3NjcyMjU2MDAsInNjb3BlIjoicmVhZDpvcmRlcnMifQ.',
  'r2ucIeJu2UCfS3k1EP3mjq84dZmedo9bSODaApJl1l4',
);
const JWT_ES256 = j('eyJhbGciOiJFUzI1NiJ9.', 'eyJzdWIiOiI0MiJ9.', 'OKsWnHkgwoti_Kd_pg9MK0j0wCfzUSMSBzGp1XBOc1E');
const PEM_PKCS8 = [
  BEGIN(''),
  'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk5NcuwUbZ+WmoXtx',
  'ZsaIkj0XYw6AoiXMWUZ7zk9R1PyhRANCAASHfR2oNyQw32sNxE50NUR1fSAFqxP2',
  '2PDwHMPv++G+9f79/y5U38NUN0omDZb6zBQX55oKM+vsYZEr7S1vyxxk',
  END(''),
].join('\n');
const PEM_EC = [
  BEGIN('EC '),
  'MHcCAQEEIJOTXLsFG2flpqF7cWbGiJI9F2MOgKIlzFlGe85PUdT8oAoGCCqGSM49',
  'AwEHoUQDQgAEh30dqDckMN9rDcROdDVEdX0gBasT9tjw8BzD7/vhvvX+/f8uVN/D',
  'VDdKJg2W+swUF+eaCjPr7GGRK+0tb8scZA==',
  END('EC '),
].join('\n');
const PEM_ED25519_ESCAPED = [BEGIN(''), 'MC4CAQAwBQYDK2VwBCIEIH4846bof3fGmpuSTAB04k+95R4a0C+1+qtF3flIutxF', END('')].join('\\n');
const PEM_TRUNCATED = [BEGIN('RSA '), 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun', 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK'].join('\n');

const email: CorpusSample[] = [
  { id: 'email-01', text: 'Please send the signed contract to john.doe@example.com before Friday.', expect: [{ kind: 'email', value: 'john.doe@example.com' }] },
  { id: 'email-02', text: 'You can reach our billing team at billing@acme-corp.io.', expect: [{ kind: 'email', value: 'billing@acme-corp.io' }] },
  { id: 'email-03', text: 'Subscribe with jane_smith+newsletter@mail.example.org and confirm the link.', expect: [{ kind: 'email', value: 'jane_smith+newsletter@mail.example.org' }] },
  { id: 'email-04', text: 'Contact: Marie Dupont <marie.dupont@orange.fr>', expect: [{ kind: 'email', value: 'marie.dupont@orange.fr' }] },
  { id: 'email-05', text: 'The account (owner: a.kowalski@uni-warszawa.edu.pl) was locked yesterday.', expect: [{ kind: 'email', value: 'a.kowalski@uni-warszawa.edu.pl' }] },
  { id: 'email-06', text: 'CC SUPPORT@EXAMPLE.COM and sales@example.co.uk on the thread, please!', expect: [{ kind: 'email', value: 'SUPPORT@EXAMPLE.COM' }, { kind: 'email', value: 'sales@example.co.uk' }] },
  { id: 'email-07', text: 'My work email is t.nguyen@globex-industries.com, personal one is tommy1987@gmail.com', expect: [{ kind: 'email', value: 't.nguyen@globex-industries.com' }, { kind: 'email', value: 'tommy1987@gmail.com' }] },
  { id: 'email-08', text: 'Bitte schreiben Sie an info@müller-bäckerei.de für Bestellungen.', expect: [{ kind: 'email', value: 'info@müller-bäckerei.de' }] },
  { id: 'email-09', text: 'Error: mailbox "r.oconnor@hospital.health.nz" is full; retry later.', expect: [{ kind: 'email', value: 'r.oconnor@hospital.health.nz' }] },
  { id: 'email-10', text: 'mailto:press@newsroom.example.net?subject=Interview', expect: [{ kind: 'email', value: 'press@newsroom.example.net' }] },
  { id: 'email-11', text: 'Forwarded from user%legacy@relay.example.com — see attachment.', expect: [{ kind: 'email', value: 'user%legacy@relay.example.com' }] },
  { id: 'email-12', text: 'Reviewer list: alice@lab.example.edu; bob.lee@lab.example.edu; carol-w@lab.example.edu.', expect: [{ kind: 'email', value: 'alice@lab.example.edu' }, { kind: 'email', value: 'bob.lee@lab.example.edu' }, { kind: 'email', value: 'carol-w@lab.example.edu' }] },
  { id: 'email-13', text: 'Can you draft a reply to priya.sharma@startup.ai thanking her for the intro?', expect: [{ kind: 'email', value: 'priya.sharma@startup.ai' }] },
  { id: 'email-14', text: '{"user": {"name": "Kenji", "email": "kenji.tanaka@example.jp", "plan": "pro"}}', expect: [{ kind: 'email', value: 'kenji.tanaka@example.jp' }] },
  { id: 'email-15', text: 'Log line: 2024-05-02T10:11:12Z login ok user=ops-team@infra.example.cloud ip=unknown', expect: [{ kind: 'email', value: 'ops-team@infra.example.cloud' }] },
  { id: 'email-16', text: 'Le client (jean-luc.martin@free.fr) demande un remboursement.', expect: [{ kind: 'email', value: 'jean-luc.martin@free.fr' }] },
  { id: 'email-17', text: 'Write to 用户@例子.广告 for the Chinese campaign.', expect: [{ kind: 'email', value: '用户@例子.广告' }] },
  { id: 'email-18', text: 'the recruiter wrote from h.r.team@careers.bigco.com...', expect: [{ kind: 'email', value: 'h.r.team@careers.bigco.com' }] },
  { id: 'email-19', text: 'Author: Lars Eriksson (lars_eriksson@posteo.se)', expect: [{ kind: 'email', value: 'lars_eriksson@posteo.se' }] },
  { id: 'email-20', text: 'Old address x@y.museum, new address first.last@company.xn--p1ai', expect: [{ kind: 'email', value: 'x@y.museum' }, { kind: 'email', value: 'first.last@company.xn--p1ai' }] },
  { id: 'email-21', text: 'Reset link sent to "m.rossi@libero.it".', expect: [{ kind: 'email', value: 'm.rossi@libero.it' }] },
  { id: 'email-22', text: 'Emails: dev@foo.dev,qa@foo.dev', expect: [{ kind: 'email', value: 'dev@foo.dev' }, { kind: 'email', value: 'qa@foo.dev' }] },
];

const phone: CorpusSample[] = [
  { id: 'phone-01', text: 'Call me at +1 (415) 555-2671 after 5pm.', expect: [{ kind: 'phone', value: '+1 (415) 555-2671' }] },
  { id: 'phone-02', text: 'Our office number is (212) 555-0147.', expect: [{ kind: 'phone', value: '(212) 555-0147' }] },
  { id: 'phone-03', text: 'Text 415-555-2671 if the driver is late.', expect: [{ kind: 'phone', value: '415-555-2671' }] },
  { id: 'phone-04', text: 'Toll free: 1-800-555-0199 (24/7).', expect: [{ kind: 'phone', value: '1-800-555-0199' }] },
  { id: 'phone-05', text: 'Whatsapp me on +14155552671 when you land.', expect: [{ kind: 'phone', value: '+14155552671' }] },
  { id: 'phone-06', text: 'London office: +44 20 7946 0958, ask for Priya.', expect: [{ kind: 'phone', value: '+44 20 7946 0958' }] },
  { id: 'phone-07', text: 'UK callers can also dial +44 (0)20 7946 0123.', expect: [{ kind: 'phone', value: '+44 (0)20 7946 0123' }] },
  { id: 'phone-08', text: 'Mein Handy: +49 171 2345678, Festnetz 030 12345678.', expect: [{ kind: 'phone', value: '+49 171 2345678' }, { kind: 'phone', value: '030 12345678' }] },
  { id: 'phone-09', text: 'Appelez-moi au 06 12 34 56 78 ou au 01.42.68.53.00.', expect: [{ kind: 'phone', value: '06 12 34 56 78' }, { kind: 'phone', value: '01.42.68.53.00' }] },
  { id: 'phone-10', text: 'Numéro international : +33 6 12 34 56 78', expect: [{ kind: 'phone', value: '+33 6 12 34 56 78' }] },
  { id: 'phone-11', text: 'Bel me op 06-12345678 of op kantoor +31 20 794 0000.', expect: [{ kind: 'phone', value: '06-12345678' }, { kind: 'phone', value: '+31 20 794 0000' }] },
  { id: 'phone-12', text: 'Llámame al +34 612 345 678 mañana.', expect: [{ kind: 'phone', value: '+34 612 345 678' }] },
  { id: 'phone-13', text: 'Ufficio di Milano: +39 02 1234 5678; fisso 02 8765 4321.', expect: [{ kind: 'phone', value: '+39 02 1234 5678' }, { kind: 'phone', value: '02 8765 4321' }] },
  { id: 'phone-14', text: 'Zürich reception 044 668 18 00, international +41 44 668 18 00.', expect: [{ kind: 'phone', value: '044 668 18 00' }, { kind: 'phone', value: '+41 44 668 18 00' }] },
  { id: 'phone-15', text: 'Ring the Stockholm desk on 08-123 456 78.', expect: [{ kind: 'phone', value: '08-123 456 78' }] },
  { id: 'phone-16', text: 'My mobile is 07700 900123 and my landline 020 7946 0018.', expect: [{ kind: 'phone', value: '07700 900123' }, { kind: 'phone', value: '020 7946 0018' }] },
  { id: 'phone-17', text: 'Rufen Sie uns an: 089/12345678 (Mo-Fr).', expect: [{ kind: 'phone', value: '089/12345678' }] },
  { id: 'phone-18', text: 'Het nummer van de Brusselse vestiging is 0470 12 34 56.', expect: [{ kind: 'phone', value: '0470 12 34 56' }] },
  { id: 'phone-19', text: 'Phone: 4155552671', expect: [{ kind: 'phone', value: '4155552671' }] },
  { id: 'phone-20', text: 'Tel.: 612 345 678 (Madrid)', expect: [{ kind: 'phone', value: '612 345 678' }] },
  { id: 'phone-21', text: 'From abroad dial 0049 30 12345678 instead.', expect: [{ kind: 'phone', value: '0049 30 12345678' }] },
  { id: 'phone-22', text: 'Customer said: "reach me on 415.555.2671, not email".', expect: [{ kind: 'phone', value: '415.555.2671' }] },
  { id: 'phone-23', text: 'Emergency contacts: +48 22 123 45 67 (Warsaw), +351 21 123 4567 (Lisbon).', expect: [{ kind: 'phone', value: '+48 22 123 45 67' }, { kind: 'phone', value: '+351 21 123 4567' }] },
  { id: 'phone-24', text: 'Dublin: 01 234 5678 or mobile 087 123 4567', expect: [{ kind: 'phone', value: '01 234 5678' }, { kind: 'phone', value: '087 123 4567' }] },
  { id: 'phone-25', text: 'Fax (030) 2345678 — attention legal dept.', expect: [{ kind: 'phone', value: '(030) 2345678' }] },
  { id: 'phone-26', text: 'Signature: Dr. A. Weber | (415)555-2671 | +1.415.555.0100', expect: [{ kind: 'phone', value: '(415)555-2671' }, { kind: 'phone', value: '+1.415.555.0100' }] },
  { id: 'phone-27', text: '<a href="tel:+442079460958">Call our London desk</a>', expect: [{ kind: 'phone', value: '+442079460958' }] },
  { id: 'phone-28', text: 'Zentrale: +49 (0) 30 1234 5678, Durchwahl -12', expect: [{ kind: 'phone', value: '+49 (0) 30 1234 5678' }] },
  { id: 'phone-29', text: 'the number on the flyer was 415 555 2671 i think', expect: [{ kind: 'phone', value: '415 555 2671' }] },
  { id: 'phone-30', text: 'Call 1 (800) 555-0123 to cancel.', expect: [{ kind: 'phone', value: '1 (800) 555-0123' }] },
  { id: 'phone-31', text: 'My number is 0612345678, text me when you arrive.', expect: [{ kind: 'phone', value: '0612345678' }] },
  { id: 'phone-32', text: 'For support, reach the hotline at (555) 123-4567 on weekdays.', expect: [{ kind: 'phone', value: '(555) 123-4567' }] },
];

const card: CorpusSample[] = [
  { id: 'card-01', text: 'Charge it to my Visa 4111 1111 1111 1111, expiry 12/27.', expect: [{ kind: 'payment_card', value: '4111 1111 1111 1111' }] },
  { id: 'card-02', text: 'Card number: 4636966187873712', expect: [{ kind: 'payment_card', value: '4636966187873712' }] },
  { id: 'card-03', text: 'use 4522-7881-4732-3985 for the test order', expect: [{ kind: 'payment_card', value: '4522-7881-4732-3985' }] },
  { id: 'card-04', text: 'old 13-digit visa 4448113359472 still on file', expect: [{ kind: 'payment_card', value: '4448113359472' }] },
  { id: 'card-05', text: 'Mastercard 5555 5555 5555 4444 declined, try 5349 4021 6022 4280.', expect: [{ kind: 'payment_card', value: '5555 5555 5555 4444' }, { kind: 'payment_card', value: '5349 4021 6022 4280' }] },
  { id: 'card-06', text: 'New 2-series Mastercard: 2221 4586 6054 5624', expect: [{ kind: 'payment_card', value: '2221 4586 6054 5624' }] },
  { id: 'card-07', text: 'Refund to card 2720-4925-9606-6385 please.', expect: [{ kind: 'payment_card', value: '2720-4925-9606-6385' }] },
  { id: 'card-08', text: 'My Amex is 3782 822463 10005 and the CID is 1234.', expect: [{ kind: 'payment_card', value: '3782 822463 10005' }] },
  { id: 'card-09', text: 'amex: 371449635398431', expect: [{ kind: 'payment_card', value: '371449635398431' }] },
  { id: 'card-10', text: 'Corporate Amex 3402 483828 44037 exp 09/26', expect: [{ kind: 'payment_card', value: '3402 483828 44037' }] },
  { id: 'card-11', text: 'Discover card 6011 1111 1111 1117 was charged twice.', expect: [{ kind: 'payment_card', value: '6011 1111 1111 1117' }] },
  { id: 'card-12', text: 'Pay with 6011646961526435 or with 6563 3231 5975 8830.', expect: [{ kind: 'payment_card', value: '6011646961526435' }, { kind: 'payment_card', value: '6563 3231 5975 8830' }] },
  { id: 'card-13', text: 'Diners Club 3622 720627 1667 on the hotel booking', expect: [{ kind: 'payment_card', value: '3622 720627 1667' }] },
  { id: 'card-14', text: 'Diners: 30025756621703', expect: [{ kind: 'payment_card', value: '30025756621703' }] },
  { id: 'card-15', text: 'JCB 3530 1113 3330 0000 for the Tokyo trip', expect: [{ kind: 'payment_card', value: '3530 1113 3330 0000' }] },
  { id: 'card-16', text: 'my jcb card is 3566002020360505 thanks', expect: [{ kind: 'payment_card', value: '3566002020360505' }] },
  { id: 'card-17', text: 'Long PAN 4248835871506362348 from the issuer test set', expect: [{ kind: 'payment_card', value: '4248835871506362348' }] },
  { id: 'card-18', text: '{"card":"4242424242424242","exp_month":11,"exp_year":2028,"cvc":"314"}', expect: [{ kind: 'payment_card', value: '4242424242424242' }] },
  { id: 'card-19', text: 'Card 4000 0566 5566 5556 12/26 123', expect: [{ kind: 'payment_card', value: '4000 0566 5566 5556' }] },
  { id: 'card-20', text: 'Please update billing: card ending 4444 (5200 8282 8282 8210) is expired.', expect: [{ kind: 'payment_card', value: '5200 8282 8282 8210' }] },
  { id: 'card-21', text: 'JCB 3589-4318-2979-7463 and Discover 6444 4183 0630 1115', expect: [{ kind: 'payment_card', value: '3589-4318-2979-7463' }, { kind: 'payment_card', value: '6444 4183 0630 1115' }] },
  { id: 'card-22', text: 'UnionPay co-branded Discover 6221 2677 7324 9300.', expect: [{ kind: 'payment_card', value: '6221 2677 7324 9300' }] },
];

const iban: CorpusSample[] = [
  { id: 'iban-01', text: 'Bitte überweisen Sie den Betrag auf DE89 3704 0044 0532 0130 00.', expect: [{ kind: 'iban', value: 'DE89 3704 0044 0532 0130 00' }] },
  { id: 'iban-02', text: 'Pay into GB82 WEST 1234 5698 7654 32 (sort code on the invoice).', expect: [{ kind: 'iban', value: 'GB82 WEST 1234 5698 7654 32' }] },
  { id: 'iban-03', text: 'IBAN: FR14 2004 1010 0505 0001 3M02 606', expect: [{ kind: 'iban', value: 'FR14 2004 1010 0505 0001 3M02 606' }] },
  { id: 'iban-04', text: 'Rekeningnummer NL91ABNA0417164300 op naam van J. de Vries', expect: [{ kind: 'iban', value: 'NL91ABNA0417164300' }] },
  { id: 'iban-05', text: 'Belgian account BE68 5390 0754 7034, BIC GKCCBEBB.', expect: [{ kind: 'iban', value: 'BE68 5390 0754 7034' }] },
  { id: 'iban-06', text: 'Transferencia a ES91 2100 0418 4502 0005 1332 antes del lunes', expect: [{ kind: 'iban', value: 'ES91 2100 0418 4502 0005 1332' }] },
  { id: 'iban-07', text: 'Coordinate bancarie: IT60 X054 2811 1010 0000 0123 456', expect: [{ kind: 'iban', value: 'IT60 X054 2811 1010 0000 0123 456' }] },
  { id: 'iban-08', text: 'Konto AT61 1904 3002 3457 3201 lautet auf die Firma.', expect: [{ kind: 'iban', value: 'AT61 1904 3002 3457 3201' }] },
  { id: 'iban-09', text: 'Swiss IBAN CH93 0076 2011 6238 5295 7 for CHF payments', expect: [{ kind: 'iban', value: 'CH93 0076 2011 6238 5295 7' }] },
  { id: 'iban-10', text: 'Irish account IE29AIBK93115212345678.', expect: [{ kind: 'iban', value: 'IE29AIBK93115212345678' }] },
  { id: 'iban-11', text: 'Numer konta: PL61 1090 1014 0000 0712 1981 2874', expect: [{ kind: 'iban', value: 'PL61 1090 1014 0000 0712 1981 2874' }] },
  { id: 'iban-12', text: 'Pagamento para PT50 0002 0123 1234 5678 9015 4, obrigado.', expect: [{ kind: 'iban', value: 'PT50 0002 0123 1234 5678 9015 4' }] },
  { id: 'iban-13', text: 'Svenskt konto: SE45 5000 0000 0583 9825 7466', expect: [{ kind: 'iban', value: 'SE45 5000 0000 0583 9825 7466' }] },
  { id: 'iban-14', text: 'Tilinumero FI21 1234 5600 0007 85 (Nordea)', expect: [{ kind: 'iban', value: 'FI21 1234 5600 0007 85' }] },
  { id: 'iban-15', text: 'Danish IBAN DK5000400440116243 and Norwegian NO9386011117947', expect: [{ kind: 'iban', value: 'DK5000400440116243' }, { kind: 'iban', value: 'NO9386011117947' }] },
  { id: 'iban-16', text: 'Compte luxembourgeois LU28 0019 4006 4475 0000.', expect: [{ kind: 'iban', value: 'LU28 0019 4006 4475 0000' }] },
  { id: 'iban-17', text: 'Supplier bank details: GB29 NWBK 6016 1331 9268 19, ref INV-2291', expect: [{ kind: 'iban', value: 'GB29 NWBK 6016 1331 9268 19' }] },
  { id: 'iban-18', text: 'Czech account CZ49 9644 1699 2770 2564 0543 please', expect: [{ kind: 'iban', value: 'CZ49 9644 1699 2770 2564 0543' }] },
  { id: 'iban-19', text: 'Λογαριασμός GR1025906816977333348192875', expect: [{ kind: 'iban', value: 'GR1025906816977333348192875' }] },
  { id: 'iban-20', text: 'Hungarian HU08 7598 3200 1727 3627 5926 4209, Romanian RO47 SUKX 8875 8678 0044 0521', expect: [{ kind: 'iban', value: 'HU08 7598 3200 1727 3627 5926 4209' }, { kind: 'iban', value: 'RO47 SUKX 8875 8678 0044 0521' }] },
  { id: 'iban-21', text: 'Maltese IBAN MT86 LQVK 9352 1440 6825 9327 2536 168 (long one).', expect: [{ kind: 'iban', value: 'MT86 LQVK 9352 1440 6825 9327 2536 168' }] },
  { id: 'iban-22', text: 'Slovenian SI02 4322 5815 9551 509; Croatian HR82 0208 0360 5716 8145 0.', expect: [{ kind: 'iban', value: 'SI02 4322 5815 9551 509' }, { kind: 'iban', value: 'HR82 0208 0360 5716 8145 0' }] },
  { id: 'iban-23', text: 'lowercase paste: de89370400440532013000', expect: [{ kind: 'iban', value: 'de89370400440532013000' }] },
];

const ssn: CorpusSample[] = [
  { id: 'ssn-01', text: 'Her social security number is 477-41-3400.', expect: [{ kind: 'us_ssn', value: '477-41-3400' }] },
  { id: 'ssn-02', text: 'SSN: 533-19-0751', expect: [{ kind: 'us_ssn', value: '533-19-0751' }] },
  { id: 'ssn-03', text: 'Applicant SSN 246510756 (no dashes on the form).', expect: [{ kind: 'us_ssn', value: '246510756' }] },
  { id: 'ssn-04', text: 'Employee 585-42-2509 joined in March.', expect: [{ kind: 'us_ssn', value: '585-42-2509' }] },
  { id: 'ssn-05', text: 'ssn=048-50-2727&dob=1990-04-12', expect: [{ kind: 'us_ssn', value: '048-50-2727' }] },
  { id: 'ssn-06', text: 'Social Security No. 549 09 5705 was verified by HR.', expect: [{ kind: 'us_ssn', value: '549 09 5705' }] },
  { id: 'ssn-07', text: 'Can you check whether 251-94-1461 matches the W-2?', expect: [{ kind: 'us_ssn', value: '251-94-1461' }] },
  { id: 'ssn-08', text: 'My SSN is 510627105, please keep it private.', expect: [{ kind: 'us_ssn', value: '510627105' }] },
  { id: 'ssn-09', text: '{"name":"R. Alvarez","ssn":"414-38-6191"}', expect: [{ kind: 'us_ssn', value: '414-38-6191' }] },
  { id: 'ssn-10', text: 'Tax form line 2 (SSN): 525-96-8028', expect: [{ kind: 'us_ssn', value: '525-96-8028' }] },
  { id: 'ssn-11', text: 'patient ss# 369-19-3940, dob 02/11/1958', expect: [{ kind: 'us_ssn', value: '369-19-3940' }] },
  { id: 'ssn-12', text: 'Spouse: 574-05-7610; dependent: 188-96-9570.', expect: [{ kind: 'us_ssn', value: '574-05-7610' }, { kind: 'us_ssn', value: '188-96-9570' }] },
  { id: 'ssn-13', text: 'SSN on file: 563 07 8112', expect: [{ kind: 'us_ssn', value: '563 07 8112' }] },
  { id: 'ssn-14', text: 'Update record for 844-10-5381 with the new address.', expect: [{ kind: 'us_ssn', value: '844-10-5381' }] },
  { id: 'ssn-15', text: 'The SSA letter references 580-58-3714.', expect: [{ kind: 'us_ssn', value: '580-58-3714' }] },
  { id: 'ssn-16', text: 'Social security number: 032219728', expect: [{ kind: 'us_ssn', value: '032219728' }] },
  { id: 'ssn-17', text: 'verify identity: 675-28-6607 / DOB 1984-07-19', expect: [{ kind: 'us_ssn', value: '675-28-6607' }] },
  { id: 'ssn-18', text: 'The SSN field (792-23-8508) failed validation in the portal.', expect: [{ kind: 'us_ssn', value: '792-23-8508' }] },
  { id: 'ssn-19', text: 'SSN - 013-05-8941', expect: [{ kind: 'us_ssn', value: '013-05-8941' }] },
  { id: 'ssn-20', text: 'Borrower SSN: 863599069; co-borrower SSN: 414-50-1111', expect: [{ kind: 'us_ssn', value: '863599069' }, { kind: 'us_ssn', value: '414-50-1111' }] },
  { id: 'ssn-21', text: 'Records: 896-78-9707 (closed), 844-89-3225 (open)', expect: [{ kind: 'us_ssn', value: '896-78-9707' }, { kind: 'us_ssn', value: '844-89-3225' }] },
];

const ip: CorpusSample[] = [
  { id: 'ip-01', text: 'The server at 192.168.1.1 stopped responding.', expect: [{ kind: 'ip_address', value: '192.168.1.1' }] },
  { id: 'ip-02', text: 'ssh deploy@10.0.0.12 -p 2222', expect: [{ kind: 'ip_address', value: '10.0.0.12' }] },
  { id: 'ip-03', text: 'Blocked 203.0.113.77 and 198.51.100.4 after repeated failures.', expect: [{ kind: 'ip_address', value: '203.0.113.77' }, { kind: 'ip_address', value: '198.51.100.4' }] },
  { id: 'ip-04', text: 'curl http://172.16.254.1:8080/health returned 503', expect: [{ kind: 'ip_address', value: '172.16.254.1' }] },
  { id: 'ip-05', text: 'Allow 100.64.0.0/10 in the firewall', expect: [{ kind: 'ip_address', value: '100.64.0.0' }] },
  { id: 'ip-06', text: 'client_ip="8.8.8.8" user_agent="curl/8.4.0"', expect: [{ kind: 'ip_address', value: '8.8.8.8' }] },
  { id: 'ip-07', text: 'Ping 255.255.255.255 is the broadcast address; 0.0.0.0 means any.', expect: [{ kind: 'ip_address', value: '255.255.255.255' }, { kind: 'ip_address', value: '0.0.0.0' }] },
  { id: 'ip-08', text: 'My home IP is 81.2.69.142.', expect: [{ kind: 'ip_address', value: '81.2.69.142' }] },
  { id: 'ip-09', text: 'IPv6 address 2001:0db8:85a3:0000:0000:8a2e:0370:7334 assigned.', expect: [{ kind: 'ip_address', value: '2001:0db8:85a3:0000:0000:8a2e:0370:7334' }] },
  { id: 'ip-10', text: 'Compressed: 2001:db8:85a3::8a2e:370:7334', expect: [{ kind: 'ip_address', value: '2001:db8:85a3::8a2e:370:7334' }] },
  { id: 'ip-11', text: 'Listen on ::1 and 127.0.0.1 only.', expect: [{ kind: 'ip_address', value: '::1' }, { kind: 'ip_address', value: '127.0.0.1' }] },
  { id: 'ip-12', text: 'Link-local fe80::1ff:fe23:4567:890a%eth0 seen on the switch', expect: [{ kind: 'ip_address', value: 'fe80::1ff:fe23:4567:890a' }] },
  { id: 'ip-13', text: 'Mapped address ::ffff:192.0.2.128 in the logs', expect: [{ kind: 'ip_address', value: '::ffff:192.0.2.128' }] },
  { id: 'ip-14', text: 'Connect to [2001:db8::1]:443 for TLS.', expect: [{ kind: 'ip_address', value: '2001:db8::1' }] },
  { id: 'ip-15', text: 'DNS servers: 1.1.1.1, 9.9.9.9 and 2606:4700:4700::1111.', expect: [{ kind: 'ip_address', value: '1.1.1.1' }, { kind: 'ip_address', value: '9.9.9.9' }, { kind: 'ip_address', value: '2606:4700:4700::1111' }] },
  { id: 'ip-16', text: 'X-Forwarded-For: 66.249.66.1, 10.1.2.3', expect: [{ kind: 'ip_address', value: '66.249.66.1' }, { kind: 'ip_address', value: '10.1.2.3' }] },
  { id: 'ip-17', text: 'Route FE80:0000:0000:0000:0202:B3FF:FE1E:8329 via gateway', expect: [{ kind: 'ip_address', value: 'FE80:0000:0000:0000:0202:B3FF:FE1E:8329' }] },
  { id: 'ip-18', text: 'multicast ff02::fb on port 5353', expect: [{ kind: 'ip_address', value: 'ff02::fb' }] },
  { id: 'ip-19', text: 'The attacker (45.33.32.156) scanned ports 1-1024.', expect: [{ kind: 'ip_address', value: '45.33.32.156' }] },
  { id: 'ip-20', text: 'host=db.internal addr=10.20.30.40 port=5432', expect: [{ kind: 'ip_address', value: '10.20.30.40' }] },
  { id: 'ip-21', text: 'Prefix 2001:db8:: is reserved for documentation.', expect: [{ kind: 'ip_address', value: '2001:db8::' }] },
  { id: 'ip-22', text: 'NAT64 uses 64:ff9b::192.0.2.33 for that host', expect: [{ kind: 'ip_address', value: '64:ff9b::192.0.2.33' }] },
];

const secret: CorpusSample[] = [
  { id: 'secret-01', text: `My OpenAI key is ${OPENAI_LEGACY}, why does it return 401?`, expect: [{ kind: 'secret', value: OPENAI_LEGACY }] },
  { id: 'secret-02', text: `export OPENAI_API_KEY=${OPENAI_PROJ}`, expect: [{ kind: 'secret', value: OPENAI_PROJ }] },
  { id: 'secret-03', text: `client = OpenAI(api_key="${OPENAI_PROJ_2}")`, expect: [{ kind: 'secret', value: OPENAI_PROJ_2 }] },
  { id: 'secret-04', text: `Service account key: ${OPENAI_SVC}`, expect: [{ kind: 'secret', value: OPENAI_SVC }] },
  { id: 'secret-05', text: `ANTHROPIC_API_KEY="${ANTHROPIC}"`, expect: [{ kind: 'secret', value: ANTHROPIC }] },
  { id: 'secret-06', text: `admin key ${ANTHROPIC_ADMIN} leaked in the CI log`, expect: [{ kind: 'secret', value: ANTHROPIC_ADMIN }] },
  { id: 'secret-07', text: `aws_access_key_id = ${AWS_KEY}\naws_secret_access_key = ${AWS_SECRET}`, expect: [{ kind: 'secret', value: AWS_KEY }, { kind: 'secret', value: AWS_SECRET }] },
  { id: 'secret-08', text: `The STS session uses ${AWS_TEMP_KEY} as access key id.`, expect: [{ kind: 'secret', value: AWS_TEMP_KEY }] },
  { id: 'secret-09', text: `git clone https://${GITHUB_PAT_CLASSIC}@github.com/acme/private-repo.git`, expect: [{ kind: 'secret', value: GITHUB_PAT_CLASSIC }] },
  { id: 'secret-10', text: `OAuth token: ${GITHUB_OAUTH}; app token: ${GITHUB_APP}`, expect: [{ kind: 'secret', value: GITHUB_OAUTH }, { kind: 'secret', value: GITHUB_APP }] },
  { id: 'secret-11', text: `GH_TOKEN=${GITHUB_FINE}`, expect: [{ kind: 'secret', value: GITHUB_FINE }] },
  { id: 'secret-12', text: `<script src="https://maps.googleapis.com/maps/api/js?key=${GOOGLE}"></script>`, expect: [{ kind: 'secret', value: GOOGLE }] },
  { id: 'secret-13', text: `firebaseConfig = { apiKey: "${GOOGLE_2}", projectId: "demo" }`, expect: [{ kind: 'secret', value: GOOGLE_2 }] },
  { id: 'secret-14', text: `SLACK_BOT_TOKEN=${SLACK_BOT}`, expect: [{ kind: 'secret', value: SLACK_BOT }] },
  { id: 'secret-15', text: `curl -H "Authorization: Bearer ${SLACK_USER}" https://slack.com/api/auth.test`, expect: [{ kind: 'secret', value: SLACK_USER }] },
  { id: 'secret-16', text: `stripe.api_key = '${STRIPE}'`, expect: [{ kind: 'secret', value: STRIPE }] },
  { id: 'secret-17', text: `Restricted key for the webhook worker: ${STRIPE_RESTRICTED}`, expect: [{ kind: 'secret', value: STRIPE_RESTRICTED }] },
  { id: 'secret-18', text: `Authorization: Bearer ${JWT_HS256}`, expect: [{ kind: 'secret', value: JWT_HS256 }] },
  { id: 'secret-19', text: `Why does this token fail verification? ${JWT_RS256}`, expect: [{ kind: 'secret', value: JWT_RS256 }] },
  { id: 'secret-20', text: `cookie: session=${JWT_ES256}; Path=/; HttpOnly`, expect: [{ kind: 'secret', value: JWT_ES256 }] },
  { id: 'secret-21', text: `Here is my key, what format is it?\n${PEM_PKCS8}\nThanks!`, expect: [{ kind: 'secret', value: PEM_PKCS8 }] },
  { id: 'secret-22', text: `server.key:\n${PEM_EC}`, expect: [{ kind: 'secret', value: PEM_EC }] },
  { id: 'secret-23', text: `{"type":"service_account","private_key":"${PEM_ED25519_ESCAPED}\\n","client_email":"svc@proj.iam.gserviceaccount.com"}`, expect: [{ kind: 'secret', value: PEM_ED25519_ESCAPED }, { kind: 'email', value: 'svc@proj.iam.gserviceaccount.com' }] },
  { id: 'secret-24', text: `The paste got cut off:\n${PEM_TRUNCATED}`, expect: [{ kind: 'secret', value: PEM_TRUNCATED }] },
  { id: 'secret-25', text: 'DATABASE_URL=postgres://app_user:Xq9#vL2pT7mR@db.prod.internal:5432/orders', expect: [{ kind: 'secret', value: 'Xq9#vL2pT7mR' }] },
];

/** Look-alikes that are not PII (some also contain real PII of another kind, listed as expected). */
const hardNegatives: CorpusSample[] = [
  // Card-like
  { id: 'neg-card-01', text: 'Card 4111 1111 1111 1112 was rejected as invalid.', expect: [], note: 'Luhn-invalid' },
  { id: 'neg-card-02', text: 'Try 4636966187873713 instead?', expect: [], note: 'Luhn-invalid visa-like' },
  { id: 'neg-card-03', text: 'MC-like 5349 4021 6022 4281 fails the check.', expect: [], note: 'Luhn-invalid' },
  { id: 'neg-card-04', text: 'Amex-like 3782 822463 10006', expect: [], note: 'Luhn-invalid' },
  { id: 'neg-card-05', text: 'Order ID 1718872102344036 shipped today.', expect: [], note: 'Luhn-valid but no card IIN starts with 1' },
  { id: 'neg-card-06', text: 'Tracking 7691027465184663 via DHL', expect: [], note: 'Luhn-valid, unknown IIN' },
  { id: 'neg-card-07', text: 'Reference 9315 5740 9772 1695 in the bank statement', expect: [], note: 'Luhn-valid, unknown IIN' },
  { id: 'neg-card-08', text: 'The batch id is 41111111111111111111 (20 digits).', expect: [], note: 'too long' },
  { id: 'neg-card-09', text: 'Timestamp 1700000000000 ms since epoch', expect: [], note: '13-digit epoch millis' },
  { id: 'neg-card-10', text: 'UPC 036000291452 on the box', expect: [], note: '12-digit barcode' },
  { id: 'neg-card-11', text: 'Partial card 4111 1111 1111 (first twelve digits only)', expect: [], note: 'too short' },
  { id: 'neg-card-12', text: 'Visa-length 4522788147323986 with a typo', expect: [], note: 'Luhn-invalid' },
  { id: 'neg-card-13', text: 'JCB-like 3528964820439904 bounced', expect: [], note: 'Luhn-invalid' },
  { id: 'neg-card-14', text: 'Serial ABC4111111111111111 on the device label', expect: [], note: 'glued to letters' },
  // IBAN-like
  { id: 'neg-iban-01', text: 'IBAN DE89 3704 0044 0532 0130 01 was rejected by the bank.', expect: [], note: 'bad checksum' },
  { id: 'neg-iban-02', text: 'Wrong check digits: GB83 WEST 1234 5698 7654 32', expect: [], note: 'bad checksum' },
  { id: 'neg-iban-03', text: 'Truncated DE89 3704 0044 0532 0130', expect: [], note: 'too short for DE' },
  { id: 'neg-iban-04', text: 'Code XX12 3456 7890 1234 56 is not a country', expect: [], note: 'unknown country' },
  { id: 'neg-iban-05', text: 'Part number AB12CDEF34567 in stock', expect: [], note: 'not a country code' },
  { id: 'neg-iban-06', text: 'Use NL61GDCP5602201128 only after confirming.', expect: [], note: 'bad checksum' },
  { id: 'neg-iban-07', text: 'ES7014907640116862427023 bounced twice', expect: [], note: 'bad checksum' },
  { id: 'neg-iban-08', text: 'Flight FR1234 departs at 10:40 from gate B12.', expect: [], note: 'flight number' },
  { id: 'neg-iban-09', text: 'Standard ISO 8601 and DE 2024 release notes', expect: [], note: 'words and years' },
  // SSN-like
  { id: 'neg-ssn-01', text: 'Test value 000-12-3456 is never issued.', expect: [], note: 'area 000' },
  { id: 'neg-ssn-02', text: 'Number 666-45-6789 cannot be an SSN.', expect: [], note: 'area 666' },
  { id: 'neg-ssn-03', text: 'ITIN 912-34-5678 belongs to a taxpayer without SSN eligibility.', expect: [], note: 'area 900-999 (ITIN)' },
  { id: 'neg-ssn-04', text: 'Code 123-00-4567 in the spreadsheet', expect: [], note: 'group 00' },
  { id: 'neg-ssn-05', text: 'Placeholder 321-54-0000', expect: [], note: 'serial 0000' },
  { id: 'neg-ssn-06', text: 'ABA routing number 021000021 for Chase', expect: [], note: 'unlabelled nine digits' },
  { id: 'neg-ssn-07', text: 'Part 555-12-3456-7 from the catalogue', expect: [], note: 'longer dashed code' },
  { id: 'neg-ssn-08', text: 'Zip+4 94103-1234 and date 2024-01-15', expect: [], note: 'ZIP+4 and ISO date' },
  // IP-like
  { id: 'neg-ip-01', text: 'Upgrade to version 1.2.3 today.', expect: [], note: 'three-part version' },
  { id: 'neg-ip-02', text: 'OID 1.3.6.1.4.1.311 identifies Microsoft.', expect: [], note: 'OID' },
  { id: 'neg-ip-03', text: 'Release 1.2.3.4.5 is a five-part build number.', expect: [], note: 'five parts' },
  { id: 'neg-ip-04', text: 'Invalid address 256.100.50.25 in the config', expect: [], note: 'octet > 255' },
  { id: 'neg-ip-05', text: 'Installed v10.0.0.1 of the agent', expect: [], note: 'v-prefixed version' },
  { id: 'neg-ip-06', text: 'Assembly version 1.0.0.0 is the default.', expect: [], note: 'labelled version' },
  { id: 'neg-ip-07', text: 'Meeting at 12:30:45 in room 4', expect: [], note: 'time' },
  { id: 'neg-ip-08', text: 'MAC 00:1A:2B:3C:4D:5E on eth0', expect: [], note: 'MAC address' },
  { id: 'neg-ip-09', text: 'Use std::vector<int> and Foo::Bar::baz()', expect: [], note: 'C++ scopes' },
  { id: 'neg-ip-10', text: 'Scores 01.02.03.04 with leading zeros', expect: [], note: 'leading zeros' },
  { id: 'neg-ip-11', text: 'Chrome 120.0.6099.109 crashed', expect: [], note: 'browser version, octet > 255' },
  // Phone-like
  { id: 'neg-phone-01', text: 'The invoice is dated 2024-01-15 and due 15.02.2024.', expect: [], note: 'dates' },
  { id: 'neg-phone-02', text: 'Windows build 10.0.19041.1234 needs a patch', expect: [], note: 'version' },
  { id: 'neg-phone-03', text: 'Order #415-555-2671 has shipped.', expect: [], note: 'order number in phone shape' },
  { id: 'neg-phone-04', text: 'Order number: 304-552-8812, tracking 1Z999AA10123456784', expect: [], note: 'order and tracking numbers' },
  { id: 'neg-phone-05', text: 'Total: $1,234,567.89 across 12345678 rows', expect: [], note: 'amount and plain count' },
  { id: 'neg-phone-06', text: 'In case of emergency call 911 or 112.', expect: [], note: 'emergency short codes' },
  { id: 'neg-phone-07', text: 'Text STOP to 72345 to unsubscribe.', expect: [], note: 'SMS short code' },
  { id: 'neg-phone-08', text: 'ISBN 978-3-16-148410-0 is on the back cover', expect: [], note: 'ISBN' },
  { id: 'neg-phone-09', text: 'Population grew to 8 336 817 in 2023.', expect: [], note: 'grouped count' },
  { id: 'neg-phone-10', text: 'The account balance is 12345678901 cents', expect: [], note: 'plain long number' },
  { id: 'neg-phone-11', text: 'Coordinates 48.8566, 2.3522 mark the spot', expect: [], note: 'coordinates' },
  { id: 'neg-phone-12', text: 'Run ID 20240115-103045-0042 finished', expect: [], note: 'timestamped id' },
  { id: 'neg-phone-13', text: 'Ticket 0412 3456 7890 opened by support', expect: [], note: 'ticket number with 0 prefix and ID context' },
  { id: 'neg-phone-14', text: 'Due dates 05/06/2024 and 12/31/2023 are fixed.', expect: [], note: 'slash dates' },
  { id: 'neg-phone-15', text: 'hex dump: 00 01 02 03 04 05 06 07 08', expect: [], note: 'byte dump' },
  { id: 'neg-phone-16', text: 'Revenue of 1 234 567 890 EUR in fiscal 2023', expect: [], note: 'space-grouped amount' },
  { id: 'neg-phone-17', text: 'Call stack depth 3, frames 0 12 24 (offsets)', expect: [], note: 'small numbers' },
  // Email-like
  { id: 'neg-email-01', text: 'Follow @john_doe and @acme.support on social media', expect: [], note: 'handles' },
  { id: 'neg-email-02', text: 'npm install lodash@4.17.21 react@^18.2.0', expect: [], note: 'package@version' },
  { id: 'neg-email-03', text: 'Use the icon@2x.png asset for retina screens', expect: [], note: 'image file name' },
  { id: 'neg-email-04', text: 'Login as admin@localhost in the dev container', expect: [], note: 'no TLD' },
  { id: 'neg-email-05', text: 'Decorators like @app.route("/") and @pytest.fixture', expect: [], note: 'decorators' },
  // Secret-like
  { id: 'neg-secret-01', text: 'See sk-learn-tutorial-for-beginners-2024 on the docs site', expect: [], note: 'slug, not a key' },
  { id: 'neg-secret-02', text: 'Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it', expect: [], note: 'git SHA' },
  { id: 'neg-secret-03', text: 'Request id 123e4567-e89b-12d3-a456-426614174000', expect: [], note: 'UUID' },
  { id: 'neg-secret-04', text: 'Token eyJub3QiOiJqc29uIHdlYiB0b2tlbiJ9.eyJhIjoxfQ.pWQrumMv7RlfhjoLc4WG lacks an alg header', expect: [], note: 'JWT-shaped, header without alg' },
  { id: 'neg-secret-05', text: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEh30dqDckMN9rDcROdDVEdX0gBasT\n-----END PUBLIC KEY-----', expect: [], note: 'public key' },
  { id: 'neg-secret-06', text: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----', expect: [], note: 'certificate' },
  { id: 'neg-secret-07', text: 'Set password in postgres://user:${DB_PASSWORD}@db:5432/app', expect: [], note: 'placeholder password' },
  { id: 'neg-secret-08', text: 'The AKIA prefix marks long-term AWS keys; ghp_ marks GitHub PATs.', expect: [], note: 'prefixes only' },
  { id: 'neg-secret-09', text: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', expect: [], note: 'digest' },
  // Mixed: look-alikes next to real PII of another kind
  { id: 'neg-mixed-01', text: 'Ship order 4111-2222-3333 to +1 (646) 555-0182', expect: [{ kind: 'phone', value: '+1 (646) 555-0182' }], note: 'order number is not a card' },
  { id: 'neg-mixed-02', text: 'Version 2.4.1 of the app logs the user email: dana.k@example.com', expect: [{ kind: 'email', value: 'dana.k@example.com' }], note: 'version is not an IP' },
];

const clean: CorpusSample[] = [
  { id: 'clean-01', text: 'Summarize the attached article about renewable energy adoption in Europe.', expect: [] },
  { id: 'clean-02', text: 'Write a haiku about autumn leaves falling on a quiet pond.', expect: [] },
  { id: 'clean-03', text: 'What is the difference between TCP and UDP? Explain with examples.', expect: [] },
  { id: 'clean-04', text: 'Our Q3 revenue was 4.2 million, up 12% from Q2; headcount is 148.', expect: [] },
  { id: 'clean-05', text: 'Translate "good morning, how are you?" into Portuguese and Italian.', expect: [] },
  { id: 'clean-06', text: 'The recipe needs 250 g flour, 3 eggs and 0.5 l milk; bake at 180 °C for 25 minutes.', expect: [] },
  { id: 'clean-07', text: 'Refactor this function: def add(a, b): return a + b', expect: [] },
  { id: 'clean-08', text: 'The meeting moved from 10:30 to 14:00 on 2024-03-05 in building 7.', expect: [] },
  { id: 'clean-09', text: 'Python 3.12.1 and Node.js 20.11.0 are installed on the runner.', expect: [] },
  { id: 'clean-10', text: 'Explain the Pythagorean theorem: a² + b² = c², e.g. 3² + 4² = 5².', expect: [] },
  { id: 'clean-11', text: 'Ich hätte gerne eine Zusammenfassung des Berichts auf Deutsch.', expect: [] },
  { id: 'clean-12', text: '東京の天気を教えてください。明日は雨ですか？', expect: [] },
  { id: 'clean-13', text: 'List five ways to reduce latency in a Kubernetes cluster with 32 nodes.', expect: [] },
  { id: 'clean-14', text: 'The parcel weighs 1.25 kg and measures 30 x 20 x 15 cm.', expect: [] },
  { id: 'clean-15', text: 'Pi is approximately 3.14159265358979 and e is 2.718281828.', expect: [] },
];

export const PII_CORPUS: readonly CorpusSample[] = [...email, ...phone, ...card, ...iban, ...ssn, ...ip, ...secret, ...hardNegatives, ...clean];
