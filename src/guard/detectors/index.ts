/**
 * The guardrail detectors: PII per kind, deny terms, deny patterns (re2js) and prompt-injection
 * heuristics. All are pure: create once from configuration, call detect() per text.
 */
export { createPiiDetector } from './pii.ts';
export { createDenyTermsDetector } from './deny-terms.ts';
export { createDenyPatternsDetector, type DenyPatternsOptions } from './deny-patterns.ts';
export { createInjectionDetector, scoreInjection, INJECTION_RULES, type InjectionOptions, type InjectionRule } from './injection.ts';
