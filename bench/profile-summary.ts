/**
 * Summarises a V8 .cpuprofile: top functions by self time, top functions by inclusive
 * (total) time, and self time grouped by where the code lives (src/ file, node_modules
 * package, node internals, GC).
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/rest.cpuprofile [--top 25]
 *   npx tsx bench/profile-summary.ts FILE --callers '^abort@node:internal' [--depth 4]
 *   npx tsx bench/profile-summary.ts FILE --callees '^complete@src/engine' [--depth 1]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Row {
  name: string;
  where: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  idlePct: number;
  /** Each sample charged to the innermost project frame (src/, bench/) on its stack, else to the innermost package. */
  attributed: Row[];
  self: Row[];
  inclusive: Row[];
  groups: Row[];
}

const root = fileURLToPath(new URL('..', import.meta.url));

function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(root)) u = u.slice(root.length);
  return u;
}

/** Where a frame's code lives: `src/x/y.ts`, `pkg` (node_modules), `node:internal`, or a V8 pseudo-frame. */
function groupOf(frame: CallFrame): string {
  const u = shortUrl(frame.url);
  if (!u) {
    if (frame.functionName.startsWith('(')) return frame.functionName; // (garbage collector), (program), (idle)
    return '(native)';
  }
  const nm = u.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (u.startsWith('node:')) return u.startsWith('node:internal/deps/undici') ? 'node:undici(builtin)' : 'node:internal';
  return u;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const isProject = (f: CallFrame) => {
    const u = shortUrl(f.url);
    return !!u && !u.includes('node_modules/') && !u.startsWith('node:') && (u.startsWith('src/') || u.startsWith('bench/'));
  };
  const attributedTo = new Map<number, string>();
  const attribution = (id: number): string => {
    const cached = attributedTo.get(id);
    if (cached) return cached;
    let pkg: string | undefined;
    let result: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (isProject(f)) {
        result = `${f.functionName || '(anonymous)'}\u0000${shortUrl(f.url)}:${f.lineNumber + 1}`;
        break;
      }
      if (!pkg) {
        const g = groupOf(f);
        if (!g.startsWith('node:') && g !== '(native)' && g !== '(root)') pkg = g;
      }
    }
    result ??= `[${pkg ?? groupOf(byId.get(id)!.callFrame)}]\u0000(no project frame on the stack)`;
    attributedTo.set(id, result);
    return result;
  };
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  }
  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'}\u0000${shortUrl(f.url)}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const groups = new Map<string, number>();
  const attributed = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const k = key(node.callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
    const g = groupOf(node.callFrame);
    groups.set(g, (groups.get(g) ?? 0) + us);
    if (node.callFrame.functionName === '(idle)') idle += us;
    else {
      const a = attribution(id);
      attributed.set(a, (attributed.get(a) ?? 0) + us);
    }
    // Inclusive: each distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (f.functionName === '(root)') continue;
      const fk = key(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      inclusive.set(fk, (inclusive.get(fk) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>, denom: number): Row[] =>
    [...m.entries()]
      .filter(([k]) => !k.startsWith('(idle)\u0000'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => {
        const [name, where] = k.split('\u0000');
        return { name: name!, where: where ?? '', ms: us / 1000, pct: denom > 0 ? (100 * us) / denom : 0 };
      });
  return {
    totalMs: total / 1000,
    idlePct: total > 0 ? (100 * idle) / total : 0,
    attributed: rows(attributed, busy),
    self: rows(self, busy),
    inclusive: rows(inclusive, busy),
    groups: [...groups.entries()]
      .filter(([g]) => g !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([g, us]) => ({ name: g, where: '', ms: us / 1000, pct: busy > 0 ? (100 * us) / busy : 0 })),
  };
}

export function summaryMarkdown(title: string, s: ProfileSummary, top = 25): string {
  const table = (rows: Row[], withWhere: boolean) =>
    [
      withWhere ? '| % of busy | ms | function | location |' : '| % of busy | ms | where |',
      withWhere ? '| ---: | ---: | --- | --- |' : '| ---: | ---: | --- |',
      ...rows.slice(0, top).map((r) =>
        withWhere ? `| ${r.pct.toFixed(1)} | ${r.ms.toFixed(0)} | \`${r.name}\` | ${r.where} |` : `| ${r.pct.toFixed(1)} | ${r.ms.toFixed(0)} | ${r.name} |`,
      ),
    ].join('\n');
  return [
    `#### ${title}`,
    '',
    `Sampled ${(s.totalMs / 1000).toFixed(1)} s, idle ${s.idlePct.toFixed(1)} %. Percentages are of non-idle time.`,
    '',
    '**CPU by the innermost Switchyard function on the stack** (what it calls — libraries, Node internals, syscalls — included; samples without a project frame go to the innermost package or group)',
    '',
    table(s.attributed, true),
    '',
    '**Self time by location (file or package)**',
    '',
    table(s.groups, false),
    '',
    '**Top functions by self time**',
    '',
    table(s.self, true),
    '',
    '**Top functions by inclusive time**',
    '',
    table(s.inclusive, true),
    '',
  ].join('\n');
}

/**
 * For functions matching `pattern` (`name@location:line`): how their inclusive time splits over
 * their callers (`--callers`) or their callees (`--callees`), `depth` frames deep.
 */
export function callGraph(profile: CpuProfile, pattern: RegExp, mode: 'callers' | 'callees', depth = 3): string {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const incl = new Map<number, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    busy += dt;
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) incl.set(c, (incl.get(c) ?? 0) + dt);
  }
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}@${shortUrl(n.callFrame.url) || '(native)'}:${n.callFrame.lineNumber + 1}`;
  const matches = (n: ProfileNode) => pattern.test(label(n));
  const paths = new Map<string, number>();
  let total = 0;
  for (const n of profile.nodes) {
    if (!matches(n)) continue;
    let outer = false;
    for (let a = parent.get(n.id); a !== undefined; a = parent.get(a)) if (matches(byId.get(a)!)) outer = true;
    if (outer) continue; // recursion or nested match: counted at the outermost one
    total += incl.get(n.id) ?? 0;
    if (mode === 'callers') {
      const chain: string[] = [];
      for (let c = parent.get(n.id), i = 0; c !== undefined && i < depth; c = parent.get(c), i++) chain.push(label(byId.get(c)!));
      const k = chain.join(' ← ');
      paths.set(k, (paths.get(k) ?? 0) + (incl.get(n.id) ?? 0));
    } else {
      const walk = (id: number, prefix: string, d: number) => {
        for (const c of byId.get(id)!.children ?? []) {
          const k = prefix ? `${prefix} → ${label(byId.get(c)!)}` : label(byId.get(c)!);
          if (d <= 1 || !(byId.get(c)!.children ?? []).length) paths.set(k, (paths.get(k) ?? 0) + (incl.get(c) ?? 0));
          else walk(c, k, d - 1);
        }
      };
      walk(n.id, '', depth);
    }
  }
  const lines = [`${pattern}: ${(total / 1000).toFixed(0)} ms inclusive, ${busy ? ((100 * total) / busy).toFixed(1) : 0} % of busy`];
  for (const [k, us] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`${(us / 1000).toFixed(0).padStart(7)} ms  ${mode === 'callers' ? '← ' : ''}${k}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i === -1 ? undefined : args[i + 1];
  };
  const top = Number(value('--top') ?? 25);
  const callers = value('--callers');
  const callees = value('--callees');
  const depth = Number(value('--depth') ?? 3);
  const files = args.filter((a, i) => !a.startsWith('--') && !['--top', '--callers', '--callees', '--depth'].includes(args[i - 1] ?? ''));
  if (!files.length) {
    console.error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [--top N] [--callers REGEX | --callees REGEX] [--depth N]');
    console.error('  REGEX matches "function@location:line", e.g. "^deadline@src/engine" or "^abort@node:internal"');
    process.exit(2);
  }
  for (const f of files) {
    const profile = JSON.parse(readFileSync(f, 'utf8')) as CpuProfile;
    if (callers) console.log(callGraph(profile, new RegExp(callers), 'callers', depth));
    else if (callees) console.log(callGraph(profile, new RegExp(callees), 'callees', depth));
    else console.log(summaryMarkdown(f, summarizeProfile(profile, top), top));
  }
}
