/**
 * The /dashboard page in headless Chromium against a gateway with traffic: the figures it shows
 * agree with Query.usage / Query.savings / Query.budgets, the charts are drawn, the live feed
 * receives new requests over graphql-ws, user text renders as text (never as HTML), and the page
 * is served with a strict CSP. Needs Debian's `chromium` (CI installs it; the test fails without it).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createTestApp, eventually, type TestApp } from '../harness/app.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT_DIR = new URL('./__screenshots__/', import.meta.url).pathname;
const ADMIN = 'sy-admin-dashboard-0123456789abcdef';
const XSS = '<img src=x onerror=alert(1)>';

/** The page's money format, restated: cents for large sums, micro-dollars for small ones. */
const usd = (micros: number) => {
  const v = micros / 1e6;
  return `$${v >= 100 ? v.toFixed(2) : v >= 1 ? v.toFixed(4) : v.toFixed(6)}`;
};
const int = (n: number) => n.toLocaleString('en-US');

interface Metrics {
  requests: number;
  errors: number;
  errorRate: number;
  inputTokens: number;
  outputTokens: number;
  cacheHits: number;
  cost: { micros: number };
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

async function gql<T = any>(gw: TestApp, query: string, variables?: unknown, key = ADMIN): Promise<T> {
  const res = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data!;
}

function chat(gw: TestApp, key: string, model: string, content: string, extra: Record<string, unknown> = {}) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], max_tokens: 60, ...extra }),
  });
}

const METRICS = 'requests errors errorRate inputTokens outputTokens cacheHits cost { micros } latencyP50Ms latencyP95Ms';

function windowFilter() {
  const to = new Date(Date.now() + 60_000);
  return { from: new Date(to.getTime() - 3_600_000).toISOString(), to: to.toISOString() };
}

async function usageBy(gw: TestApp, groupBy: string[] = []) {
  const d = await gql<{ usage: { totals: Metrics; groups: Array<{ key: Array<{ dimension: string; value: string | null }>; metrics: Metrics }> } }>(
    gw,
    `query($f: UsageFilter!, $g: [UsageDimension!]) { usage(filter: $f, groupBy: $g) { totals { ${METRICS} } groups { key { dimension value } metrics { ${METRICS} } } } }`,
    { f: windowFilter(), g: groupBy },
  );
  return d.usage;
}

async function launch(): Promise<Browser> {
  // Never skipped: CI installs Chromium, and a missing browser must fail the run.
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium).`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** Page-side problems worth failing for: script errors, CSP refusals, dialogs (an executed payload would alert). */
function watch(page: Page) {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/.test(m.location().url)) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

const text = (page: Page, testid: string) => page.locator(`[data-testid="${testid}"]`).first().textContent();
const value = (page: Page, testid: string) => page.locator(`[data-testid="${testid}"]`).first().getAttribute('data-value');

describe('dashboard', () => {
  let browser: Browser;
  let gw: TestApp;
  let searchTeam: string;
  let adsTeam: string;
  let searchKey: { id: string; secret: string };
  let adsKey: { id: string; secret: string };
  let sent = 0;

  const config: ConfigInput = {
    auth: { adminKey: ADMIN },
    routing: { retry: { maxAttempts: 1 } },
    providers: [
      { id: 'mock', type: 'mock', latencyMs: 15 },
      // Nothing listens on port 9: requests to this provider fail (a recorded error).
      { id: 'down', type: 'openai', apiKey: 'sk-nowhere', baseUrl: 'http://127.0.0.1:9/v1' },
    ],
    models: [
      { name: 'mock-small', provider: 'mock', pricing: { input: 1, output: 10 } },
      { name: 'mock-large', provider: 'mock', pricing: { input: 5, output: 50 } },
      { name: 'broken-model', provider: 'down', pricing: { input: 1, output: 1 } },
    ],
    // Cheapest-first with the large model as baseline: routing saves money.
    routes: [{ name: 'smart', strategy: 'cheapest', targets: ['mock-large', 'mock-small'], baseline: 'mock-large' }],
    storage: { recorder: { flushIntervalMs: 20 } },
  };

  beforeAll(async () => {
    browser = await launch();
    gw = await createTestApp(config);
    const team = (name: string, budget: number) =>
      gql(gw, 'mutation($i: CreateTeamInput!) { createTeam(input: $i) { id } }', { i: { name, budget: { amountUsd: budget, period: 'DAY' } } }).then((d) => d.createTeam.id as string);
    const key = (name: string, teamId: string, budget: number) =>
      gql(gw, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key { id } secret } }', {
        i: { name, teamId, role: 'MEMBER', budget: { amountUsd: budget, period: 'MONTH' } },
      }).then((d) => ({ id: d.createApiKey.key.id as string, secret: d.createApiKey.secret as string }));
    searchTeam = await team('Search', 0.03);
    // A team name is user text too: it must show up literally in legends and tables.
    adsTeam = await team(`Ads ${XSS}`, 0.02);
    searchKey = await key('search-backend', searchTeam, 0.02);
    adsKey = await key('ads-batch', adsTeam, 0.01);

    // One at a time, so budget reservations (worst case per request) never refuse one.
    const statuses: number[] = [];
    const call = async (k: string, model: string, content: string, extra?: Record<string, unknown>) => {
      sent++;
      statuses.push((await chat(gw, k, model, content, extra)).status);
    };
    for (let i = 0; i < 4; i++) await call(searchKey.secret, 'mock-small', `summarize ticket ${i}`);
    for (let i = 0; i < 3; i++) await call(searchKey.secret, 'mock-large', `write a long answer about topic ${i}`);
    for (let i = 0; i < 3; i++) await call(searchKey.secret, 'smart', `route me please ${i}`);
    for (let i = 0; i < 2; i++) await call(adsKey.secret, 'mock-large', `ad copy ${i}`);
    await call(adsKey.secret, 'broken-model', 'this one fails');
    expect(statuses.slice(0, -1).every((s) => s === 200), String(statuses)).toBe(true);
    expect(statuses.at(-1)).toBeGreaterThanOrEqual(500);
    // The same deterministic request twice: the second is a cache hit.
    const miss = await chat(gw, adsKey.secret, 'mock-small', 'cache me', { temperature: 0 });
    const hit = await chat(gw, adsKey.secret, 'mock-small', 'cache me', { temperature: 0 });
    sent += 2;
    expect([miss.headers.get('x-switchyard-cache'), hit.headers.get('x-switchyard-cache')]).toEqual(['MISS', 'HIT']);
    await eventually(async () => (await usageBy(gw)).totals.requests === sent, 10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('serves the page and its assets with a strict CSP and nosniff, no inline script', async () => {
    const page = await fetch(`${gw.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const js = await fetch(`${gw.url}/dashboard/dashboard.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).not.toMatch(/\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect((await fetch(`${gw.url}/dashboard/../package.json`)).status).not.toBe(200);
    expect((await fetch(`${gw.url}/dashboard/nope.js`)).status).toBe(404);
    expect((await fetch(`${gw.url}/dashboard`, { method: 'POST' })).status).toBe(405);
  });

  it('asks for a key, then shows figures that agree with Query.usage, savings and budgets, and a live feed', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const problems = watch(page);
    await page.goto(`${gw.url}/dashboard`);
    await page.waitForSelector('body[data-state="needs-key"]');
    expect(await text(page, 'message')).toContain('needs an API key');
    // The keyless first attempt is refused (Chromium logs the 401); nothing else may have gone wrong.
    expect(problems.every((p) => /status of 401/.test(p)), String(problems)).toBe(true);
    problems.length = 0;

    await page.fill('[data-testid="key-input"]', ADMIN);
    await page.click('[data-testid="key-save"]');
    await page.waitForSelector('body[data-state="ready"]');
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    expect(await page.evaluate(() => sessionStorage.getItem('switchyard.dashboard.key'))).toBe(ADMIN);
    expect(await text(page, 'who')).toBe('admin key');

    // Totals against Query.usage over the same window.
    const overall = await usageBy(gw);
    const t = overall.totals;
    expect(t.requests).toBe(sent);
    expect(t.errors).toBe(1);
    expect(t.cacheHits).toBe(1);
    expect(await text(page, 'total-requests')).toBe(int(t.requests));
    expect(await text(page, 'total-cost')).toBe(usd(t.cost.micros));
    expect(Number(await value(page, 'total-cost'))).toBe(t.cost.micros);
    expect(await text(page, 'total-input-tokens')).toBe(int(t.inputTokens));
    expect(await text(page, 'total-output-tokens')).toBe(int(t.outputTokens));
    expect(await text(page, 'error-rate')).toBe(`${(t.errorRate * 100).toFixed(1)}%`);
    expect(await text(page, 'latency-p50')).toBe(`${Math.round(t.latencyP50Ms!)} ms`);
    expect(await text(page, 'latency-p95')).toBe(`${Math.round(t.latencyP95Ms!)} ms`);
    expect(await text(page, 'cache-hits')).toBe('1');

    // Per model: every group's row shows its requests, tokens and cost.
    const byModel = await usageBy(gw, ['MODEL']);
    expect(byModel.groups.length).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid="model-row"]').count()).toBe(byModel.groups.length);
    for (const g of byModel.groups) {
      const row = page.locator(`[data-testid="model-row"][data-model="${g.key[0]!.value ?? '(none)'}"]`);
      expect(await row.locator('[data-testid="model-requests"]').textContent()).toBe(int(g.metrics.requests));
      expect(await row.locator('[data-testid="model-input-tokens"]').textContent()).toBe(int(g.metrics.inputTokens));
      expect(await row.locator('[data-testid="model-output-tokens"]').textContent()).toBe(int(g.metrics.outputTokens));
      expect(await row.locator('[data-testid="model-cost"]').textContent()).toBe(usd(g.metrics.cost.micros));
    }

    // Per team, with the team name shown literally.
    const byTeam = await usageBy(gw, ['TEAM']);
    for (const g of byTeam.groups) {
      const row = page.locator(`[data-testid="team-row"][data-team="${g.key[0]!.value ?? ''}"]`);
      expect(await row.locator('[data-testid="team-cost"]').textContent()).toBe(usd(g.metrics.cost.micros));
      expect(await row.locator('[data-testid="team-requests"]').textContent()).toBe(int(g.metrics.requests));
    }
    expect(await page.locator(`[data-testid="team-row"][data-team="${adsTeam}"] td`).first().textContent()).toBe(`Ads ${XSS}`);
    expect(await page.locator('[data-testid="legend-cost-by-team"] li').allTextContents()).toContain(`Ads ${XSS}`);

    // Top keys: both keys, by name, with their cost.
    const byKey = await usageBy(gw, ['KEY']);
    for (const k of [searchKey, adsKey]) {
      const g = byKey.groups.find((x) => x.key[0]!.value === k.id)!;
      const row = page.locator(`[data-testid="key-row"][data-key="${k.id}"]`);
      expect(await row.locator('[data-testid="key-cost"]').textContent()).toBe(usd(g.metrics.cost.micros));
      expect(await row.locator('td').first().textContent()).toBe(`${k === searchKey ? 'search-backend' : 'ads-batch'} (…${k.secret.slice(-4)})`);
    }

    // Charts: bars and points drawn, and the bars add up to the totals.
    const barSum = (testid: string) =>
      page.$$eval(`[data-testid="${testid}"] rect.bar`, (rs) => rs.reduce((n, r) => n + Number(r.getAttribute('data-value')), 0));
    expect(await page.locator('[data-testid="chart-cost-by-model"] rect.bar').count()).toBeGreaterThan(0);
    expect(await barSum('chart-cost-by-model')).toBe(t.cost.micros);
    expect(await barSum('chart-tokens-by-model')).toBe(t.inputTokens + t.outputTokens);
    expect(await barSum('chart-cost-by-team')).toBe(t.cost.micros);
    expect(await barSum('chart-errors')).toBe(t.requests);
    expect(await page.locator('[data-testid="chart-latency"] circle.point').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="chart-latency"] path.line').count()).toBe(2);

    // Savings against Query.savings.
    const s = (
      await gql(gw, `query($f: SavingsFilter!) { savings(filter: $f) { totals { routingSaved { micros } cacheSaved { micros } saved { micros } } } }`, { f: windowFilter() })
    ).savings.totals;
    expect(s.routingSaved.micros).toBeGreaterThan(0);
    expect(s.cacheSaved.micros).toBeGreaterThan(0);
    expect(await text(page, 'saved-routing')).toBe(usd(s.routingSaved.micros));
    expect(await text(page, 'saved-cache')).toBe(usd(s.cacheSaved.micros));
    expect(await text(page, 'saved-total')).toBe(usd(s.saved.micros));
    expect(await page.locator('[data-testid="savings-row"][data-route="smart"]').count()).toBe(1);

    // Budgets: one card per team and key budget, spend as Query.budgets reports it, a burn-down line.
    const budgets = (await gql(gw, '{ budgets { scope id spent { micros } limit { micros } } }')).budgets as Array<{ scope: string; id: string; spent: { micros: number }; limit: { micros: number } }>;
    expect(budgets).toHaveLength(4);
    expect(await page.locator('[data-testid="budget"]').count()).toBe(4);
    for (const b of budgets) {
      const card = page.locator(`[data-testid="budget"][data-id="${b.id}"]`);
      expect(Number(await card.getAttribute('data-spent'))).toBe(b.spent.micros);
      expect(await card.locator('.figures').textContent()).toContain(`${usd(b.spent.micros)} of ${usd(b.limit.micros)} spent`);
      expect(Number(await card.locator('[data-testid="budget-burndown"]').getAttribute('data-points'))).toBeGreaterThan(0);
    }

    // The feed starts with the recent requests (the error among them).
    expect(await page.locator('[data-testid="feed-row"]').count()).toBe(sent);
    expect(await page.locator('[data-testid="feed-row"] [data-testid="feed-status"]', { hasText: 'ERROR' }).count()).toBe(1);

    // A new request appears in the live feed, and the figures follow.
    const live = await chat(gw, searchKey.secret, 'mock-small', 'a live one', { metadata: { probe: 'live-1' } });
    expect(live.status).toBe(200);
    const liveId = live.headers.get('x-request-id')!;
    const liveRow = page.locator(`[data-testid="feed-row"][data-request-id="${liveId}"]`);
    await liveRow.waitFor({ timeout: 10_000 });
    expect(await liveRow.locator('[data-testid="feed-tags"]').textContent()).toBe('probe=live-1');
    expect(await page.locator('[data-testid="feed-row"]').first().getAttribute('data-request-id')).toBe(liveId);
    await page.waitForFunction((n) => document.querySelector('[data-testid="total-requests"]')?.getAttribute('data-value') === String(n), sent + 1, { timeout: 10_000 });

    // User text in the feed renders as text: the tag value shows literally and no element is created.
    const hostile = await chat(gw, searchKey.secret, 'mock-small', XSS, { metadata: { note: XSS } });
    const hostileRow = page.locator(`[data-testid="feed-row"][data-request-id="${hostile.headers.get('x-request-id')}"]`);
    await hostileRow.waitFor({ timeout: 10_000 });
    expect(await hostileRow.locator('.tag').textContent()).toBe(`note=${XSS}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('main b').count()).toBe(0);

    // Let the refresh the feed scheduled finish, then keep a picture.
    await page.waitForFunction((n) => document.querySelector('[data-testid="total-requests"]')?.getAttribute('data-value') === String(n), sent + 2, { timeout: 10_000 });
    const after = await usageBy(gw);
    expect(await text(page, 'total-cost')).toBe(usd(after.totals.cost.micros));
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOT_DIR}dashboard.png`, fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('works without a key in open development mode', async () => {
    await using open = await createTestApp({ providers: [{ id: 'mock', type: 'mock' }], storage: { recorder: { flushIntervalMs: 20 } } });
    expect((await chat(open, 'anything', 'mock', 'hello')).status).toBe(200);
    await eventually(async () => (await usageBy(open)).totals.requests === 1, 10_000);
    const page = await browser.newPage();
    const problems = watch(page);
    await page.goto(`${open.url}/dashboard`);
    await page.waitForSelector('body[data-state="ready"]');
    expect(await text(page, 'who')).toBe('open development mode (no key needed)');
    expect(await text(page, 'total-requests')).toBe('1');
    await page.waitForSelector('[data-testid="live-status"][data-status="live"]');
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
