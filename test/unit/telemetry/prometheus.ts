/**
 * Test helper: a strict parser of the Prometheus text exposition format (0.0.4), checked against
 * parse-prometheus-text-format. The library is used as a second opinion only: it merges every
 * series of a labelled histogram into one and drops their labels, so histograms are read here.
 *
 * Strict means: every sample belongs to a family declared by `# TYPE` before it; names and label
 * names are valid; label values use only the allowed escapes; values parse as floats; no series
 * appears twice; histogram buckets are cumulative and `le="+Inf"` equals `_count`.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  /** Full sample name (with _bucket/_sum/_count for histograms). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: Map<string, number>;
  sum: number;
  count: number;
}

export interface Scrape {
  families: Map<string, Family>;
  /** Sum of the values of family `name` (counters, gauges) over samples whose labels include `labels` (0 when none). */
  value(name: string, labels?: Record<string, string>): number;
  /** The histogram series whose labels include `labels`. */
  histograms(name: string, labels?: Record<string, string>): HistogramSeries[];
  /** Time series in the exposition (each bucket, _sum and _count counts as one), of families starting with `prefix`. */
  seriesCount(prefix?: string): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(s: string, line: number): number {
  // As Prometheus (Go's ParseFloat) reads them: Inf and NaN in any case (prom-client writes "Nan").
  if (/^\+?inf$/i.test(s)) return Infinity;
  if (/^-inf$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${s}`);
  return Number(s);
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new Error(`line ${line}: label without =`);
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new Error(`line ${line}: bad label name ${name}`);
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value not quoted`);
    let v = '';
    let j = eq + 2;
    for (;; j++) {
      const c = text[j];
      if (c === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = text[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`line ${line}: bad escape \\${n}`);
      } else v += c;
    }
    labels[name] = v;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected , or } after a label`);
  }
}

const includes = (labels: Record<string, string>, want: Record<string, string>) => Object.entries(want).every(([k, v]) => labels[k] === v);

export function parseMetrics(text: string): Scrape {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, f);
      }
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`line ${line}: bad type ${rest}`);
        if (f.samples.length) throw new Error(`line ${line}: TYPE after samples of ${name}`);
        f.type = rest as Family['type'];
      } else f.help = rest;
      current = f;
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const name = m[1]!;
    let rest = m[2]!;
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || !rest.startsWith(' ')) throw new Error(`line ${line}: bad sample ${raw}`);
    const value = parseValue(parts[0]!, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp`);
    if (!current) throw new Error(`line ${line}: sample before any TYPE`);
    const base = current.name;
    const suffixes = current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : current.type === 'summary' ? ['', '_sum', '_count'] : [''];
    if (!suffixes.some((s) => name === base + s)) throw new Error(`line ${line}: ${name} outside its family ${base}`);
    if (current.type === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) throw new Error(`line ${line}: bucket without le`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    seen.add(key);
    current.samples.push({ name, labels, value });
  });

  const histograms = (name: string, want: Record<string, string> = {}): HistogramSeries[] => {
    const f = families.get(name);
    if (!f) return [];
    if (f.type !== 'histogram') throw new Error(`${name} is a ${f.type}`);
    const series = new Map<string, HistogramSeries>();
    for (const s of f.samples) {
      const { le, ...labels } = s.labels;
      const key = JSON.stringify(Object.entries(labels).sort());
      let h = series.get(key);
      if (!h) series.set(key, (h = { labels, buckets: new Map(), sum: NaN, count: NaN }));
      if (s.name.endsWith('_bucket')) h.buckets.set(le!, s.value);
      else if (s.name.endsWith('_sum')) h.sum = s.value;
      else h.count = s.value;
    }
    for (const h of series.values()) {
      const values = [...h.buckets.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v);
      for (let i = 1; i < values.length; i++) if (values[i]! < values[i - 1]!) throw new Error(`${name}: buckets not cumulative`);
      if (h.buckets.get('+Inf') !== h.count) throw new Error(`${name}: +Inf bucket ${h.buckets.get('+Inf')} != count ${h.count}`);
    }
    return [...series.values()].filter((h) => includes(h.labels, want));
  };

  // Second opinion on every counter and gauge: the library must read the same totals.
  for (const lib of parsePrometheusTextFormat(text)) {
    const f = families.get(lib.name);
    if (!f) throw new Error(`parse-prometheus-text-format saw ${lib.name}, the strict parser did not`);
    if (f.type !== 'counter' && f.type !== 'gauge') continue;
    const theirs = lib.metrics.reduce((n, s) => n + Number(s.value), 0);
    const ours = f.samples.reduce((n, s) => n + s.value, 0);
    if (!(Math.abs(theirs - ours) <= 1e-9 * Math.max(1, Math.abs(ours))) && !(Number.isNaN(theirs) && Number.isNaN(ours))) {
      throw new Error(`${f.name}: parsers disagree (${ours} vs ${theirs})`);
    }
  }

  return {
    families,
    value(name, want = {}) {
      const f = families.get(name);
      if (!f) return 0;
      if (f.type === 'histogram') return histograms(name, want).reduce((n, h) => n + h.count, 0);
      return f.samples.filter((s) => includes(s.labels, want)).reduce((n, s) => n + s.value, 0);
    },
    histograms,
    seriesCount(prefix = '') {
      let n = 0;
      for (const f of families.values()) if (f.name.startsWith(prefix)) n += f.samples.length;
      return n;
    },
  };
}
