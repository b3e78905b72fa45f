/**
 * Switchyard dashboard: reads the GraphQL API (queries over HTTP, the live feed over
 * graphql-ws) and draws hand-made SVG charts. No build step, no dependencies.
 *
 * Safety: every value that came from the API (model output, user tags, names, error codes)
 * reaches the page only through textContent / createTextNode or setAttribute on data-* and
 * presentation attributes. No HTML string is ever parsed into the page.
 */

const KEY_STORAGE = 'switchyard.dashboard.key';
const SVG_NS = 'http://www.w3.org/2000/svg';
const FEED_LIMIT = 50;
const TOP_KEYS = 10;
const MAX_BUDGETS = 12;
const PALETTE_SIZE = 10;

/** Window length and bucket per range option. */
const RANGES = {
  '15m': { ms: 15 * 60_000, bucket: 'MINUTE' },
  '1h': { ms: 60 * 60_000, bucket: 'MINUTE' },
  '24h': { ms: 24 * 3_600_000, bucket: 'HOUR' },
  '7d': { ms: 7 * 86_400_000, bucket: 'HOUR' },
  '30d': { ms: 30 * 86_400_000, bucket: 'DAY' },
};
const BUCKET_MS = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

// ------------------------------------------------------------------ GraphQL

const METRICS = `requests errors errorRate inputTokens outputTokens cachedInputTokens cacheHits
  cost { micros } cacheSaved { micros } latencyP50Ms latencyP95Ms latencyAvgMs`;

const Q_ME = `query DashboardMe { me { kind role team { id name } key { id name } } }`;
const Q_OVERVIEW = `query DashboardOverview($f: UsageFilter!, $b: TimeBucket) {
  usage(filter: $f, bucket: $b) { from to bucket totals { ${METRICS} }
    series { start metrics { requests errors cost { micros } latencyP50Ms latencyP95Ms } } } }`;
const Q_GROUPED = `query DashboardGrouped($f: UsageFilter!, $b: TimeBucket, $g: [UsageDimension!]) {
  usage(filter: $f, bucket: $b, groupBy: $g) { from to bucket
    groups { key { dimension value } metrics { ${METRICS} }
      series { start metrics { cost { micros } inputTokens outputTokens } } } } }`;
const Q_KEYS = `query DashboardKeys($f: UsageFilter!) {
  usage(filter: $f, groupBy: [KEY, TEAM]) { groups { key { dimension value } metrics { requests inputTokens outputTokens cost { micros } } } } }`;
const Q_SAVINGS = `query DashboardSavings($f: SavingsFilter!) {
  savings(filter: $f) {
    totals { requests actual { micros } baseline { micros } routingSaved { micros } cacheHits cacheSaved { micros } saved { micros } }
    routes { route figures { requests actual { micros } baseline { micros } routingSaved { micros } cacheHits cacheSaved { micros } } } } }`;
const Q_NAMES = `query DashboardNames { teams { id name } apiKeys { id name last4 team { id name } } }`;
const Q_BUDGETS = `query DashboardBudgets { budgets { scope id period mode periodStart nextReset
  limit { micros } spent { micros } reserved { micros } remaining { micros } } }`;
const Q_BURN = `query DashboardBurn($f: UsageFilter!, $b: TimeBucket) {
  usage(filter: $f, bucket: $b) { from to bucket series { start metrics { cost { micros } } } } }`;
const FEED_FIELDS = `requestId time status frontDoor stream requestedModel servedModel provider route
  latencyMs errorCode usage { inputTokens outputTokens } cost { micros } cache { status }
  tags { key value } keyId teamId key { name } team { name }`;
const Q_RECENT = `query DashboardRecent { requests(first: 25) { edges { node { ${FEED_FIELDS} } } } }`;
const S_FEED = `subscription DashboardFeed { usageEvents { ${FEED_FIELDS} } }`;

class AuthError extends Error {}

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

/** One GraphQL operation over HTTP; throws AuthError on 401 and Error on GraphQL errors. */
async function gql(query, variables) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const key = storedKey();
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }), credentials: 'omit' });
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error(`GraphQL answered ${res.status} without JSON.`);
  }
  const code = body?.errors?.[0]?.extensions?.code;
  if (res.status === 401 || code === 'UNAUTHENTICATED') throw new AuthError(body?.errors?.[0]?.message ?? 'A key is needed.');
  if (body?.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

// ------------------------------------------------------------------ DOM helpers

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

/** Creates an element; string and number children become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) setAttr(node, k, v);
  for (const c of children) append(node, c);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) setAttr(node, k, v);
  for (const c of children) append(node, c);
  return node;
}

function setAttr(node, name, value) {
  // Event-handler and URL attributes are never set from here.
  if (/^on/i.test(name) || name === 'href' || name === 'src' || name === 'style') throw new Error(`refusing attribute ${name}`);
  node.setAttribute(name, String(value));
}

function append(node, child) {
  if (child === undefined || child === null || child === false) return;
  node.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

function setText(testid, text, value) {
  const node = $(testid);
  if (!node) return;
  node.textContent = text;
  if (value !== undefined) node.dataset.value = String(value);
}

function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

function showMessage(text, kind = 'info') {
  const m = $('message');
  if (!text) {
    m.hidden = true;
    m.textContent = '';
    return;
  }
  m.hidden = false;
  m.dataset.kind = kind;
  m.textContent = text;
}

// ------------------------------------------------------------------ formatting

/** Dollars from integer micro-dollars: cents for large sums, micro-dollars for small ones. */
export function formatUsd(micros) {
  const v = micros / 1e6;
  return `$${v >= 100 ? v.toFixed(2) : v >= 1 ? v.toFixed(4) : v.toFixed(6)}`;
}
const formatInt = (n) => Number(n).toLocaleString('en-US');
const formatPct = (r) => `${(r * 100).toFixed(1)}%`;
const formatMs = (v) => (v === null || v === undefined ? '–' : `${Math.round(v)} ms`);

function formatTime(ms, bucket) {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const md = `${d.getMonth() + 1}/${d.getDate()}`;
  return bucket === 'DAY' ? md : bucket === 'HOUR' && ms % 86_400_000 === 0 ? md : hm;
}

/** Rounds up to 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// ------------------------------------------------------------------ charts

const W = 640;
const H = 220;
const PAD = { left: 64, right: 12, top: 10, bottom: 26 };

/** Bucket starts covering [from, to) of a report. */
function bucketsOf(report) {
  const step = BUCKET_MS[report.bucket];
  const from = Date.parse(report.from);
  const to = Date.parse(report.to);
  const out = [];
  for (let t = from; t < to && out.length < 2000; t += step) out.push(t);
  return out;
}

function drawFrame(node, buckets, bucket, yMax, formatY) {
  clear(node);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - f);
    node.append(svg('line', { class: f === 0 ? 'axis' : 'grid', x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    node.append(svg('text', { class: 'tick', x: PAD.left - 6, y: y + 3, 'text-anchor': 'end' }, formatY(yMax * f)));
  }
  const n = buckets.length;
  const idx = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of idx) {
    if (buckets[i] === undefined) continue;
    const x = PAD.left + (plotW * (i + 0.5)) / n;
    node.append(svg('text', { class: 'tick', x, y: H - 8, 'text-anchor': 'middle' }, formatTime(buckets[i], bucket)));
  }
  return { plotW, plotH };
}

function noData(node, text = 'No data in this window') {
  clear(node);
  node.append(svg('text', { class: 'nodata', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, text));
}

function legend(testid, series) {
  const ul = $(testid);
  clear(ul);
  for (const s of series) ul.append(el('li', { 'data-series': s.name }, el('span', { class: `swatch ${s.cls}` }), s.name));
}

/**
 * Stacked bars: one column per bucket, one segment per series. `series` is
 * [{ name, cls, values: Map(bucketStart -> number) }].
 */
function stackedBars(testid, report, series, formatY) {
  const node = $(testid);
  const buckets = bucketsOf(report);
  const totals = buckets.map((t) => series.reduce((n, s) => n + (s.values.get(t) ?? 0), 0));
  const max = Math.max(0, ...totals);
  legend(testid.replace('chart-', 'legend-'), series);
  if (!series.length || !(max > 0)) {
    noData(node);
    node.dataset.bars = '0';
    return;
  }
  const yMax = niceMax(max);
  const { plotW, plotH } = drawFrame(node, buckets, report.bucket, yMax, formatY);
  const slot = plotW / buckets.length;
  const bw = Math.max(1, slot * 0.8);
  let bars = 0;
  buckets.forEach((t, i) => {
    let acc = 0;
    for (const s of series) {
      const v = s.values.get(t) ?? 0;
      if (!(v > 0)) continue;
      const h = (v / yMax) * plotH;
      const y = PAD.top + plotH - ((acc + v) / yMax) * plotH;
      const rect = svg('rect', { class: `bar ${s.cls}`, x: PAD.left + slot * i + (slot - bw) / 2, y, width: bw, height: Math.max(h, 0.5), 'data-series': s.name, 'data-value': v });
      rect.append(svg('title', {}, `${s.name} · ${formatTime(t, report.bucket)} · ${formatY(v)}`));
      node.append(rect);
      acc += v;
      bars++;
    }
  });
  node.dataset.bars = String(bars);
}

/** Lines with a point per bucket that has a value (null values leave gaps). */
function lines(testid, report, series, formatY) {
  const node = $(testid);
  const buckets = bucketsOf(report);
  let max = 0;
  for (const s of series) for (const v of s.values.values()) if (v !== null && v > max) max = v;
  legend(testid.replace('chart-', 'legend-'), series);
  if (!(max > 0)) {
    noData(node);
    node.dataset.points = '0';
    return;
  }
  const yMax = niceMax(max);
  const { plotW, plotH } = drawFrame(node, buckets, report.bucket, yMax, formatY);
  const slot = plotW / buckets.length;
  let points = 0;
  for (const s of series) {
    let d = '';
    let pen = 'M';
    buckets.forEach((t, i) => {
      const v = s.values.get(t);
      if (v === undefined || v === null) {
        pen = 'M';
        return;
      }
      const x = PAD.left + slot * (i + 0.5);
      const y = PAD.top + plotH - (v / yMax) * plotH;
      d += `${pen}${x.toFixed(1)},${y.toFixed(1)} `;
      pen = 'L';
      const dot = svg('circle', { class: `point ${s.cls}`, cx: x, cy: y, r: 2.5, 'data-series': s.name, 'data-value': v });
      dot.append(svg('title', {}, `${s.name} · ${formatTime(t, report.bucket)} · ${formatY(v)}`));
      node.append(dot);
      points++;
    });
    if (d) node.insertBefore(svg('path', { class: `line ${s.cls}`, d: d.trim() }), node.firstChild);
  }
  node.dataset.points = String(points);
}

const seriesMap = (series, pick) => new Map(series.map((p) => [Date.parse(p.start), pick(p.metrics)]));
const usdAxis = (micros) => formatUsd(Math.round(micros));
const intAxis = (n) => (n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : formatInt(Math.round(n)));

// ------------------------------------------------------------------ sections

const state = { names: { teams: new Map(), keys: new Map() }, me: null, seq: 0 };

function windowVariables() {
  const range = RANGES[$('range').value] ?? RANGES['1h'];
  const to = new Date(Date.now() + 1_000);
  const from = new Date(to.getTime() - range.ms);
  return { from: from.toISOString(), to: to.toISOString(), bucket: range.bucket };
}

const teamName = (id) => (id === null || id === undefined ? '(no team)' : state.names.teams.get(id) ?? id);
function keyName(id) {
  if (id === null || id === undefined) return '(no key)';
  if (id === 'open') return 'open mode';
  if (id === 'bootstrap') return 'admin key';
  const k = state.names.keys.get(id);
  return k ? `${k.name} (…${k.last4})` : id;
}

function renderOverview(report) {
  const t = report.totals;
  setText('total-cost', formatUsd(t.cost.micros), t.cost.micros);
  setText('total-requests', formatInt(t.requests), t.requests);
  setText('total-input-tokens', formatInt(t.inputTokens), t.inputTokens);
  setText('total-output-tokens', formatInt(t.outputTokens), t.outputTokens);
  setText('error-rate', formatPct(t.errorRate), t.errorRate);
  setText('latency-p50', formatMs(t.latencyP50Ms), t.latencyP50Ms ?? '');
  setText('latency-p95', formatMs(t.latencyP95Ms), t.latencyP95Ms ?? '');
  setText('cache-hits', formatInt(t.cacheHits), t.cacheHits);
  stackedBars(
    'chart-errors',
    report,
    [
      { name: 'success', cls: 'good', values: seriesMap(report.series, (m) => m.requests - m.errors) },
      { name: 'error', cls: 'bad', values: seriesMap(report.series, (m) => m.errors) },
    ],
    intAxis,
  );
  lines(
    'chart-latency',
    report,
    [
      { name: 'p50', cls: 'c0', values: seriesMap(report.series, (m) => m.latencyP50Ms) },
      { name: 'p95', cls: 'c1', values: seriesMap(report.series, (m) => m.latencyP95Ms) },
    ],
    (v) => `${Math.round(v)}`,
  );
}

const td = (text, attrs = {}) => el('td', attrs, text);
const num = (text, testid, value) => el('td', { class: 'num', 'data-testid': testid, 'data-value': value }, text);

function fillTable(testid, rows, columns) {
  const body = $(testid).querySelector('tbody');
  clear(body);
  if (!rows.length) body.append(el('tr', {}, el('td', { class: 'empty', colspan: columns }, 'No requests in this window')));
  for (const r of rows) body.append(r);
}

function renderModels(report) {
  const groups = report.groups.map((g) => ({ name: g.key[0]?.value ?? '(none)', g }));
  const series = groups.map(({ name, g }, i) => ({ name, cls: `c${i % PALETTE_SIZE}`, g }));
  stackedBars('chart-cost-by-model', report, series.map((s) => ({ ...s, values: seriesMap(s.g.series, (m) => m.cost.micros) })), usdAxis);
  stackedBars('chart-tokens-by-model', report, series.map((s) => ({ ...s, values: seriesMap(s.g.series, (m) => m.inputTokens + m.outputTokens) })), intAxis);
  fillTable(
    'table-models',
    groups.map(({ name, g }) => {
      const m = g.metrics;
      return el(
        'tr',
        { 'data-testid': 'model-row', 'data-model': name },
        td(name, { 'data-testid': 'model-name' }),
        num(formatInt(m.requests), 'model-requests', m.requests),
        num(formatInt(m.inputTokens), 'model-input-tokens', m.inputTokens),
        num(formatInt(m.outputTokens), 'model-output-tokens', m.outputTokens),
        num(formatUsd(m.cost.micros), 'model-cost', m.cost.micros),
        num(formatPct(m.errorRate), 'model-error-rate', m.errorRate),
        num(formatMs(m.latencyP50Ms), 'model-p50', m.latencyP50Ms ?? ''),
        num(formatMs(m.latencyP95Ms), 'model-p95', m.latencyP95Ms ?? ''),
      );
    }),
    8,
  );
}

function renderTeams(report) {
  const groups = report.groups.map((g) => ({ id: g.key[0]?.value ?? null, g }));
  stackedBars(
    'chart-cost-by-team',
    report,
    groups.map(({ id, g }, i) => ({ name: teamName(id), cls: `c${i % PALETTE_SIZE}`, values: seriesMap(g.series, (m) => m.cost.micros) })),
    usdAxis,
  );
  fillTable(
    'table-teams',
    groups.map(({ id, g }) => {
      const m = g.metrics;
      return el(
        'tr',
        { 'data-testid': 'team-row', 'data-team': id ?? '' },
        td(teamName(id)),
        num(formatInt(m.requests), 'team-requests', m.requests),
        num(formatInt(m.inputTokens + m.outputTokens), 'team-tokens', m.inputTokens + m.outputTokens),
        num(formatUsd(m.cost.micros), 'team-cost', m.cost.micros),
        num(formatPct(m.errorRate), 'team-error-rate', m.errorRate),
      );
    }),
    5,
  );
}

function renderKeys(report) {
  const rows = report.groups.map((g) => ({
    keyId: g.key.find((k) => k.dimension === 'KEY')?.value ?? null,
    teamId: g.key.find((k) => k.dimension === 'TEAM')?.value ?? null,
    m: g.metrics,
  }));
  rows.sort((a, b) => b.m.cost.micros - a.m.cost.micros || b.m.requests - a.m.requests);
  fillTable(
    'table-keys',
    rows.slice(0, TOP_KEYS).map(({ keyId, teamId, m }) =>
      el(
        'tr',
        { 'data-testid': 'key-row', 'data-key': keyId ?? '' },
        td(keyName(keyId)),
        td(teamName(teamId)),
        num(formatInt(m.requests), 'key-requests', m.requests),
        num(formatInt(m.inputTokens + m.outputTokens), 'key-tokens', m.inputTokens + m.outputTokens),
        num(formatUsd(m.cost.micros), 'key-cost', m.cost.micros),
      ),
    ),
    5,
  );
}

function renderSavings(report) {
  const t = report.totals;
  setText('saved-cache', formatUsd(t.cacheSaved.micros), t.cacheSaved.micros);
  setText('saved-routing', formatUsd(t.routingSaved.micros), t.routingSaved.micros);
  setText('saved-total', formatUsd(t.saved.micros), t.saved.micros);
  fillTable(
    'table-savings',
    report.routes.map((r) => {
      const f = r.figures;
      return el(
        'tr',
        { 'data-testid': 'savings-row', 'data-route': r.route ?? '' },
        td(r.route ?? '(model named directly)'),
        num(formatInt(f.requests), 'savings-requests', f.requests),
        num(formatUsd(f.actual.micros), 'savings-actual', f.actual.micros),
        num(formatUsd(f.baseline.micros), 'savings-baseline', f.baseline.micros),
        num(formatUsd(f.routingSaved.micros), 'savings-routing', f.routingSaved.micros),
        num(formatInt(f.cacheHits), 'savings-cache-hits', f.cacheHits),
        num(formatUsd(f.cacheSaved.micros), 'savings-cache', f.cacheSaved.micros),
      );
    }),
    7,
  );
}

/** The usage query behind one budget's burn-down: its period (at most a year back), its key or team. */
function burnQuery(b) {
  const now = Date.now();
  const start = Math.max(Date.parse(b.periodStart), now - 365 * 86_400_000);
  const span = now - start;
  const bucket = span <= 2 * 86_400_000 ? 'HOUR' : 'DAY';
  const f = { from: new Date(Math.floor(start / BUCKET_MS[bucket]) * BUCKET_MS[bucket]).toISOString(), to: new Date(now + 1_000).toISOString() };
  if (b.scope === 'TEAM') f.teamIds = [b.id];
  else f.keyIds = [b.id];
  return { f, b: bucket };
}

async function renderBudgets(budgets) {
  const host = $('budgets');
  const shown = budgets.slice(0, MAX_BUDGETS);
  const burns = await Promise.all(shown.map((b) => gql(Q_BURN, burnQuery(b)).then((d) => d.usage, () => null)));
  clear(host);
  if (!shown.length) host.append(el('p', { class: 'hint', 'data-testid': 'budgets-empty' }, 'No key or team has a budget.'));
  shown.forEach((b, i) => host.append(budgetCard(b, burns[i])));
}

function budgetCard(b, burn) {
  const limit = b.limit.micros;
  const spent = b.spent.micros;
  const used = limit > 0 ? spent / limit : 0;
  const name = b.scope === 'TEAM' ? `Team ${teamName(b.id)}` : `Key ${keyName(b.id)}`;
  const card = el(
    'div',
    { class: 'budget', 'data-testid': 'budget', 'data-scope': b.scope, 'data-id': b.id, 'data-spent': spent, 'data-limit': limit },
    el('div', { class: 'title' }, name),
    el(
      'div',
      { class: 'figures' },
      `${formatUsd(spent)} of ${formatUsd(limit)} spent (${formatPct(used)}) · ${formatUsd(b.reserved.micros)} reserved · ${formatUsd(b.remaining.micros)} left · ${b.period.toLowerCase()}, ${b.mode.toLowerCase()}`,
      b.nextReset ? ` · resets ${new Date(b.nextReset).toLocaleString()}` : '',
    ),
  );
  const meter = svg('svg', { viewBox: '0 0 300 8', preserveAspectRatio: 'none', class: 'meter-svg', 'data-testid': 'budget-meter' });
  meter.append(svg('rect', { x: 0, y: 0, width: 300, height: 8, fill: '#edf0f4' }));
  meter.append(svg('rect', { class: used >= 1 ? 'used over' : 'used', x: 0, y: 0, width: Math.min(300, 300 * used), height: 8 }));
  meter.append(svg('rect', { class: 'reserved', x: Math.min(300, 300 * used), y: 0, width: Math.max(0, Math.min(300 - 300 * used, (300 * b.reserved.micros) / Math.max(1, limit))), height: 8 }));
  card.append(meter);
  card.append(burnDown(b, burn));
  return card;
}

/** Remaining budget (limit minus cumulative spend) at the end of each bucket since the period began. */
function burnDown(b, burn) {
  const w = 300;
  const h = 110;
  const pad = { l: 6, r: 6, t: 6, b: 16 };
  const node = svg('svg', { viewBox: `0 0 ${w} ${h}`, 'data-testid': 'budget-burndown', role: 'img', 'aria-label': 'Budget burn-down' });
  const limit = b.limit.micros;
  if (!burn || !(limit > 0)) {
    node.append(svg('text', { class: 'nodata', x: w / 2, y: h / 2, 'text-anchor': 'middle' }, burn ? 'No limit' : 'Burn-down unavailable'));
    return node;
  }
  const start = Date.parse(burn.from);
  const now = Date.now();
  const end = b.nextReset ? Math.max(Date.parse(b.nextReset), now) : now;
  const x = (t) => pad.l + ((t - start) / Math.max(1, end - start)) * (w - pad.l - pad.r);
  const y = (v) => pad.t + (1 - Math.max(-0.1, v) / limit) * (h - pad.t - pad.b);
  node.append(svg('line', { class: 'axis', x1: pad.l, x2: w - pad.r, y1: y(0), y2: y(0) }));
  if (b.nextReset) node.append(svg('path', { class: 'ideal', d: `M${x(start)},${y(limit)} L${x(end)},${y(0)}` }));
  let spent = 0;
  let d = `M${x(start).toFixed(1)},${y(limit).toFixed(1)}`;
  const step = BUCKET_MS[burn.bucket];
  let points = 0;
  // Flat until a bucket with spend, then down across that bucket: spend shows where it happened.
  for (const p of burn.series) {
    const t0 = Math.max(Date.parse(p.start), start);
    d += ` L${x(t0).toFixed(1)},${y(limit - spent).toFixed(1)}`;
    spent += p.metrics.cost.micros;
    d += ` L${x(Math.min(t0 + step, now)).toFixed(1)},${y(limit - spent).toFixed(1)}`;
    points++;
  }
  d += ` L${x(now).toFixed(1)},${y(limit - spent).toFixed(1)}`;
  node.append(svg('path', { class: 'remaining', d }));
  node.append(svg('text', { class: 'tick', x: pad.l, y: h - 3 }, formatTime(start, 'DAY')));
  node.append(svg('text', { class: 'tick', x: w - pad.r, y: h - 3, 'text-anchor': 'end' }, b.nextReset ? `reset ${formatTime(end, 'DAY')}` : 'now'));
  node.dataset.points = String(points);
  return node;
}

// ------------------------------------------------------------------ live feed

function feedRow(r, isNew) {
  const tokens = r.usage ? r.usage.inputTokens + r.usage.outputTokens : 0;
  const model = r.servedModel && r.servedModel !== r.requestedModel ? `${r.requestedModel} → ${r.servedModel}` : r.requestedModel;
  const who = [r.team?.name ?? (r.teamId ? teamName(r.teamId) : null), r.key?.name ?? (r.keyId ? keyName(r.keyId) : null)].filter(Boolean).join(' / ');
  const tags = el('td', { 'data-testid': 'feed-tags' });
  for (const t of r.tags ?? []) tags.append(el('span', { class: 'tag' }, `${t.key}=${t.value}`));
  return el(
    'tr',
    { 'data-testid': 'feed-row', 'data-request-id': r.requestId, class: isNew ? 'new' : undefined },
    td(new Date(r.time).toLocaleTimeString([], { hour12: false }), { 'data-testid': 'feed-time' }),
    td(r.status, { class: `status-${r.status}`, 'data-testid': 'feed-status' }),
    td(model, { 'data-testid': 'feed-model' }),
    td(r.provider ?? '–'),
    td(who || '–'),
    num(formatInt(tokens), 'feed-tokens', tokens),
    num(formatUsd(r.cost?.micros ?? 0), 'feed-cost', r.cost?.micros ?? 0),
    num(formatMs(r.latencyMs), 'feed-latency', r.latencyMs),
    td(r.cache?.status ?? '–'),
    tags,
    td(r.errorCode ?? '', { 'data-testid': 'feed-error' }),
  );
}

function addFeedRows(rows, isNew) {
  const body = $('feed').querySelector('tbody');
  for (const r of rows) {
    if (body.querySelector(`tr[data-request-id="${CSS.escape(r.requestId)}"]`)) continue;
    if (isNew) body.prepend(feedRow(r, true));
    else body.append(feedRow(r, false));
  }
  while (body.children.length > FEED_LIMIT) body.lastElementChild.remove();
}

/** graphql-transport-ws (the graphql-ws protocol) by hand: init with the key, subscribe, pong. */
const live = { ws: null, retry: 0, timer: 0, closing: false };

function setLive(status, text = status) {
  const s = $('live-status');
  s.dataset.status = status;
  s.textContent = text;
}

function connectLive() {
  disconnectLive();
  live.closing = false;
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, 'graphql-transport-ws');
  live.ws = ws;
  setLive('connecting');
  ws.addEventListener('open', () => {
    const key = storedKey();
    ws.send(JSON.stringify({ type: 'connection_init', payload: key ? { authorization: `Bearer ${key}` } : {} }));
  });
  ws.addEventListener('message', (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    switch (m.type) {
      case 'connection_ack':
        live.retry = 0;
        ws.send(JSON.stringify({ id: 'feed', type: 'subscribe', payload: { query: S_FEED } }));
        setLive('live');
        break;
      case 'ping':
        ws.send(JSON.stringify({ type: 'pong' }));
        break;
      case 'next':
        if (m.payload?.data?.usageEvents) {
          addFeedRows([m.payload.data.usageEvents], true);
          scheduleRefresh();
        } else if (m.payload?.errors) showMessage(`Live feed: ${m.payload.errors.map((x) => x.message).join('; ')}`, 'error');
        break;
      case 'error':
        showMessage(`Live feed: ${(m.payload ?? []).map((x) => x.message).join('; ')}`, 'error');
        break;
      default:
        break;
    }
  });
  ws.addEventListener('close', (e) => {
    if (live.ws !== ws) return;
    live.ws = null;
    if (live.closing) return;
    if (e.code === 4401 || e.code === 4403) {
      setLive('offline', 'feed refused: check the key');
      return;
    }
    setLive('connecting', 'reconnecting');
    const delay = Math.min(30_000, 500 * 2 ** live.retry++);
    live.timer = setTimeout(connectLive, delay);
  });
}

function disconnectLive() {
  clearTimeout(live.timer);
  live.closing = true;
  if (live.ws) {
    const ws = live.ws;
    live.ws = null;
    ws.close(1000, 'bye');
  }
  setLive('offline');
}

// ------------------------------------------------------------------ loading

let refreshTimer = 0;
/** New requests re-read the figures, at most every 2 seconds. */
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = 0;
    void loadAll({ quiet: true });
  }, 2_000);
}

function section(promise, what) {
  return promise.catch((err) => {
    if (err instanceof AuthError) throw err;
    console.error(what, err);
    return { failed: `${what}: ${err.message}` };
  });
}

async function loadAll({ quiet = false } = {}) {
  const seq = ++state.seq;
  if (!quiet) document.body.dataset.state = 'loading';
  const w = windowVariables();
  const f = { from: w.from, to: w.to };
  try {
    const me = await gql(Q_ME);
    state.me = me.me;
    renderWho(me.me);
    const names = await section(gql(Q_NAMES), 'teams and keys');
    if (!names.failed) {
      state.names.teams = new Map(names.teams.map((t) => [t.id, t.name]));
      state.names.keys = new Map(names.apiKeys.map((k) => [k.id, k]));
    }
    const [overview, models, teams, keys, savings, budgets, recent] = await Promise.all([
      section(gql(Q_OVERVIEW, { f, b: w.bucket }), 'usage'),
      section(gql(Q_GROUPED, { f, b: w.bucket, g: ['MODEL'] }), 'usage by model'),
      section(gql(Q_GROUPED, { f, b: w.bucket, g: ['TEAM'] }), 'usage by team'),
      section(gql(Q_KEYS, { f }), 'usage by key'),
      section(gql(Q_SAVINGS, { f }), 'savings'),
      section(gql(Q_BUDGETS), 'budgets'),
      section(gql(Q_RECENT), 'recent requests'),
    ]);
    if (seq !== state.seq) return;
    const failures = [names, overview, models, teams, keys, savings, budgets, recent].filter((x) => x.failed).map((x) => x.failed);
    if (!overview.failed) renderOverview(overview.usage);
    if (!models.failed) renderModels(models.usage);
    if (!teams.failed) renderTeams(teams.usage);
    if (!keys.failed) renderKeys(keys.usage);
    if (!savings.failed) renderSavings(savings.savings);
    if (!recent.failed) addFeedRows(recent.requests.edges.map((e) => e.node), false);
    if (!budgets.failed) await renderBudgets(budgets.budgets);
    if (seq !== state.seq) return;
    showMessage(failures.length ? `Some figures could not be loaded: ${failures.join(' · ')}` : '', 'error');
    setText('updated', `Updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.state = 'ready';
    if (!live.ws) connectLive();
  } catch (err) {
    if (seq !== state.seq) return;
    if (err instanceof AuthError) {
      document.body.dataset.state = 'needs-key';
      disconnectLive();
      renderWho(null);
      showMessage(storedKey() ? 'That key was not accepted. Enter another one.' : 'This gateway needs an API key: enter one above.', 'info');
      $('key-input').focus();
      return;
    }
    document.body.dataset.state = 'error';
    showMessage(`Could not load the dashboard: ${err.message}`, 'error');
  }
}

function renderWho(me) {
  const who = $('who');
  if (!me) {
    who.textContent = 'not signed in';
    return;
  }
  if (me.kind === 'OPEN') who.textContent = 'open development mode (no key needed)';
  else if (me.kind === 'BOOTSTRAP') who.textContent = 'admin key';
  else who.textContent = `${me.key?.name ?? 'key'} · ${me.role.toLowerCase()}${me.team ? ` · team ${me.team.name}` : ''}`;
}

function init() {
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('key-input');
    const value = input.value.trim();
    input.value = '';
    try {
      if (value) sessionStorage.setItem(KEY_STORAGE, value);
    } catch {
      /* storage disabled: the key lives only until the next reload */
    }
    clearFeed();
    disconnectLive();
    void loadAll();
  });
  $('key-forget').addEventListener('click', () => {
    try {
      sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      /* nothing stored */
    }
    clearFeed();
    disconnectLive();
    void loadAll();
  });
  $('range').addEventListener('change', () => void loadAll());
  $('refresh').addEventListener('click', () => void loadAll());
  void loadAll();
}

function clearFeed() {
  clear($('feed').querySelector('tbody'));
}

init();
