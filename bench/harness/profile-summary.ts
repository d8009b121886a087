import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (inspector or `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly name: string;
  /** `file:line`, shortened to the package or the project folder; empty for native code. */
  readonly where: string;
  /** Self time in `functions`, total time in `packageTotals`. */
  readonly ms: number;
  /** Of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  /** Functions with the most self time, merged by name and place; V8's pseudo-frames left out. */
  readonly functions: readonly HotSpot[];
  /**
   * This package's functions with the most total time (their own and their callees'): where
   * its paths spend, e.g. negotiate against upgrade on a connect.
   */
  readonly packageTotals: readonly HotSpot[];
  /** Self time by where the code lives: this package's src, a dependency, Node's core, native. */
  readonly areas: readonly { readonly area: string; readonly share: number }[];
  /** V8's own frames: garbage collection and unattributed program time. */
  readonly garbageCollector: number;
  readonly program: number;
}

const PACKAGE_AREA = 'nestjs-signalr src';
const PSEUDO = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export function summarizeProfile(file: string, count = 10): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const functions = new Map<string, { name: string; where: string; micros: number }>();
  const areas = new Map<string, number>();
  const pseudo = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const frame = frameOf.get(nodeId)!;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)') return;
    busy += delta;
    if (PSEUDO.has(name)) {
      pseudo.set(name, (pseudo.get(name) ?? 0) + delta);
      return;
    }
    const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, micros: 0 };
    entry.micros += delta;
    functions.set(key, entry);
    const area = areaOf(frame.url);
    areas.set(area, (areas.get(area) ?? 0) + delta);
  });
  const share = (micros: number) => micros / Math.max(1, busy);
  const totals = packageTotals(profile, frameOf);
  const top = (entries: Iterable<{ name: string; where: string; micros: number }>) =>
    [...entries]
      .toSorted((a, b) => b.micros - a.micros)
      .slice(0, count)
      .map(({ name, where, micros }) => ({ name, where, ms: micros / 1000, share: share(micros) }));
  return {
    busyMs: busy / 1000,
    functions: top(functions.values()),
    packageTotals: top(totals.values()),
    areas: [...areas.entries()].toSorted((a, b) => b[1] - a[1]).map(([area, micros]) => ({ area, share: share(micros) })),
    garbageCollector: share(pseudo.get('(garbage collector)') ?? 0),
    program: share(pseudo.get('(program)') ?? 0),
  };
}

/** Total time of each function of this package's src: each sample counts once for every such function on its stack. */
function packageTotals(profile: CpuProfile, frameOf: Map<number, CpuProfile['nodes'][number]['callFrame']>) {
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const totals = new Map<string, { name: string; where: string; micros: number }>();
  profile.samples.forEach((nodeId, index) => {
    if (frameOf.get(nodeId)!.functionName === '(idle)') return;
    const delta = profile.timeDeltas[index] ?? 0;
    const counted = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parentOf.get(id)) {
      const frame = frameOf.get(id)!;
      if (areaOf(frame.url) !== PACKAGE_AREA) continue;
      const where = `${shorten(frame.url)}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName}@${where}`;
      // A recursive or re-entered function is on the stack more than once: its sample counts once.
      if (counted.has(key)) continue;
      counted.add(key);
      const entry = totals.get(key) ?? { name: frame.functionName || '(anonymous)', where, micros: 0 };
      entry.micros += delta;
      totals.set(key, entry);
    }
  });
  return totals;
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return path.slice(modules + '/node_modules/'.length);
  const project = /\/(src|bench)\/.*$/.exec(path);
  return project ? project[0].slice(1) : path;
}

function areaOf(url: string): string {
  if (!url) return 'native (V8 built-ins, syscalls such as writev)';
  if (url.startsWith('node:')) return 'Node core (JS)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const [scope, name] = path.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (/\/src\//.test(path)) return PACKAGE_AREA;
  if (/\/bench\//.test(path)) return 'bench server';
  return path;
}
