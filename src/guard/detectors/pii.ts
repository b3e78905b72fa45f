/**
 * The PII detector for a kind: one pure scan function per kind behind the Detector contract.
 */
import type { Detector, Finding, PiiKind } from '../types.ts';
import { detectEmails } from './email.ts';
import { detectIbans } from './iban.ts';
import { detectIpAddresses } from './ip-address.ts';
import { detectPaymentCards } from './payment-card.ts';
import { detectPhones } from './phone.ts';
import { detectSecrets } from './secret.ts';
import { detectUsSsns } from './us-ssn.ts';

const SCANNERS: Record<PiiKind, (text: string) => Finding[]> = {
  email: detectEmails,
  phone: detectPhones,
  payment_card: detectPaymentCards,
  iban: detectIbans,
  us_ssn: detectUsSsns,
  ip_address: detectIpAddresses,
  secret: detectSecrets,
};

export function createPiiDetector(kind: PiiKind): Detector {
  if (!Object.hasOwn(SCANNERS, kind)) throw new Error(`unknown PII kind "${String(kind)}"`);
  return { kind, detect: SCANNERS[kind] };
}
