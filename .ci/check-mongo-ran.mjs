#!/usr/bin/env node
// Fails unless the test run really exercised MongoDB: the harness marker names the server it
// used, and the MongoDB contract suite and MongoDB-backed integration tests passed (not skipped).
import { readFileSync } from 'node:fs';

const [resultsPath, markerPath] = process.argv.slice(2);
const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
const marker = JSON.parse(readFileSync(markerPath, 'utf8'));
const problems = [];
if (!['env', 'memory-server', 'ferretdb'].includes(marker.kind)) problems.push(`harness marker names no MongoDB server: ${JSON.stringify(marker)}`);

const tests = results.testResults.flatMap((f) => f.assertionResults.map((a) => ({ file: f.name, name: [...a.ancestorTitles, a.title].join(' > '), status: a.status })));
const count = (pred) => {
  const sel = tests.filter(pred);
  return { passed: sel.filter((t) => t.status === 'passed').length, other: sel.filter((t) => t.status !== 'passed').length };
};
const checks = {
  'store contract on MongoDB': count((t) => t.file.endsWith('test/contracts/store-contract.test.ts') && /^store contract: '?mongodb'?/.test(t.name)),
  'recorder durability (MongoDB outage)': count((t) => t.file.endsWith('test/integration/recorder-durability.test.ts')),
  'governance on MongoDB': count((t) => t.file.endsWith('test/integration/governance.test.ts')),
};
for (const [name, c] of Object.entries(checks)) {
  if (c.passed === 0) problems.push(`${name}: no test passed`);
  if (c.other > 0) problems.push(`${name}: ${c.other} test(s) not passed (skipped, todo or failed)`);
}
console.log(`MongoDB server used by the tests: ${marker.kind} (${marker.uri})`);
for (const [name, c] of Object.entries(checks)) console.log(`  ${name}: ${c.passed} passed`);
if (problems.length) {
  console.error(`MongoDB tests did not run as required:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
