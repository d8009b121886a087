import type { IdleHoldResult } from './idle-hold.js';
import type { BenchOptions, TargetId } from './options.js';
import { fieldOf, isNa, LABELS, noteOf, number, withRatio, type Outcome } from './report-cells.js';
import type { SlowConsumersResult, SlowConsumersSample } from './slow-consumers.js';
import type { SlowFanoutResult } from './slow-fanout.js';

/** The three flow-control scenarios' tables: slow consumers, idle connections held, slow fan-out. */
const MIB = 2 ** 20;
const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : number(bytes / MIB));
/** Seconds per column of the RSS curve. */
const CURVE_STEP_SECONDS = 10;

export const slowFanoutKey = (target: TargetId, cell: 'all' | 'slow') => `${target}:${cell}`;

export function renderSlowConsumers(options: BenchOptions, targets: readonly TargetId[], results: Map<TargetId, Outcome<SlowConsumersResult>>, notes: string[]): string[] {
  const seconds = Math.floor(options.slowDurationMs / 1000);
  const steps = Array.from({ length: Math.ceil(seconds / CURVE_STEP_SECONDS) }, (_, index) => index * CURVE_STEP_SECONDS);
  const lines = [
    '## Slow consumers: server memory while clients stop reading',
    '',
    `${options.slowClients} clients join the room and start a server-to-client stream each (${number(options.streamItemBytes)} bytes ` +
      `of filler an item, ${options.streamIntervalMs > 0 ? `one every ${options.streamIntervalMs} ms` : 'one every turn of the event loop'}), ` +
      `then stop reading their sockets; ${options.slowReaders} reading clients send ${options.slowRoomRate} broadcasts a second to the ` +
      `same room (${number(options.slowRoomPayloadBytes)} bytes of filler). The server's RSS is read from /proc every second for ${seconds} s; ` +
      `past ${number(options.rssCapMb)} MiB the server is killed. Deliveries are receipts at the reading clients, against ` +
      'broadcasts sent × readers. Slow clients closed: the server\'s own count of its connections, less the readers that ' +
      'were closed; at the end the slow clients read again and report the Close message they find.',
    '',
    '| server | RSS at start, MiB | max | at the end | deliveries to readers per second (share of expected) | p50 / p99 send → receipt, ms | slow clients closed by the server |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const target of targets) {
    const outcome = results.get(target);
    notes.push(noteOf(`${LABELS[target]}, slow consumers`, outcome) ?? '');
    if (isNa(outcome)) {
      lines.push(`| ${LABELS[target]} | n/a | | | | | |`);
      continue;
    }
    const result = outcome as SlowConsumersResult;
    const { samples } = result;
    const last = samples.at(-1);
    const rssValues = samples.map((sample) => sample.rss ?? 0);
    const sent = last?.sent ?? 0;
    const received = last?.received ?? 0;
    const share = sent > 0 ? ` (${((received / (sent * result.readers)) * 100).toFixed(1)}%)` : '';
    lines.push(
      `| ${LABELS[target]} | ${mib(result.startRss)} | ${mib(Math.max(...rssValues))} | ${mib(last?.rss)}${result.cappedAt === undefined ? '' : ` (killed at ${result.cappedAt} s)`} | ` +
        `${number(received / Math.max(1, samples.length))}${share} | ${number(result.p50Ms, 1)} / ${number(result.p99Ms, 1)} | ${slowClosures(result)} |`,
    );
  }
  lines.push('', `RSS (MiB, highest in each ${CURVE_STEP_SECONDS} s) and deliveries to the readers per second, over time:`, '');
  lines.push(`| server | | ${steps.map((step) => `${step}–${Math.min(step + CURVE_STEP_SECONDS, seconds)} s`).join(' | ')} |`);
  lines.push(`|---|---|${steps.map(() => '---:').join('|')}|`);
  for (const target of targets) {
    const outcome = results.get(target);
    if (isNa(outcome)) continue;
    const { samples } = outcome as SlowConsumersResult;
    const within = (step: number) => samples.filter(({ second }) => second > step && second <= step + CURVE_STEP_SECONDS);
    const rss = steps.map((step) => {
      const values = within(step).map((sample) => sample.rss ?? 0);
      return values.length > 0 ? mib(Math.max(...values)) : '–';
    });
    const rates = steps.map((step) => deliveryRate(samples, step));
    lines.push(`| ${LABELS[target]} | RSS | ${rss.join(' | ')} |`, `| | deliveries/s | ${rates.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function deliveryRate(samples: readonly SlowConsumersSample[], step: number): string {
  const before = samples.find(({ second }) => second === step);
  const end = samples.filter(({ second }) => second <= step + CURVE_STEP_SECONDS).at(-1);
  if (!end || end.second <= step) return '–';
  return number(((end.received - (before?.received ?? 0)) / (end.second - step)));
}

/** When the server let go of the slow clients, by its own count, and what they were told. */
function slowClosures(result: SlowConsumersResult): string {
  const closedBy = (sample: SlowConsumersSample) =>
    sample.connections === undefined ? undefined : result.connectionsAtStart - sample.connections - sample.readerCloses;
  const counted = result.samples.filter((sample) => closedBy(sample) !== undefined);
  if (result.connectionsAtStart < 0) return 'n/a (no count from this server)';
  const most = Math.max(0, ...counted.map((sample) => closedBy(sample)!));
  const first = counted.find((sample) => closedBy(sample)! > 0);
  const all = counted.find((sample) => closedBy(sample) === most);
  const when = most === 0 ? `none in ${result.samples.length} s` : `${most} of ${result.slowClients}, the first by ${first!.second} s, ${most > 1 ? `the last by ${all!.second} s` : ''}`.replace(/, $/, '');
  const reasons = result.closeReasons
    ? Object.entries(result.closeReasons).map(([reason, count]) => `${count} × ${reason}`).join('; ')
    : undefined;
  const told = result.slowClosed === undefined ? '' : `; reading again, ${result.slowClosed} found themselves closed${reasons ? ` (${reasons})` : ''}`;
  return `${when}${told}`;
}

export function renderIdleHold(options: BenchOptions, targets: readonly TargetId[], results: Map<TargetId, Outcome<IdleHoldResult>>, notes: string[]): string[] {
  const lines = [
    `## ${number(options.holdConnections)} idle connections held for ${number(options.holdMs / 1000)} s`,
    '',
    `Each server in turn: its memory settled first (full GCs a second apart until RSS stops moving), then ` +
      `${number(options.holdConnections)} connections opened by ${options.openConcurrency} at a time over several load processes ` +
      '(this package: negotiate, upgrade, handshake), memory settled again, the connections held with a keep-alive from each ' +
      'client every 15 s and the hub\'s own pings (every 15 s by default), then all closed with a close frame; RSS read after ' +
      'full GCs 5 s after the server counted none. Drops are closes the load processes saw during the hold. Ratios against (a). ' +
      'V8\'s old space is read with the connections held and settled: what it holds, and what live objects fill of it; the ' +
      'rest is free room left within its pages by objects that died after their neighbours were promoted, which full GCs ' +
      'do not give back and RSS still counts.',
    '',
    '| server | held | connects per second while opening | settled RSS before, MiB (after s of GCs) | RSS KiB per connection | JS heap KiB per connection | V8 old space held / filled, MiB | drops | server CPU while holding, % of a core | RSS 5 s after all left, MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const base = results.get('raw-ws');
  for (const target of targets) {
    const outcome = results.get(target);
    notes.push(noteOf(`${LABELS[target]}, idle hold`, outcome) ?? '');
    const value = (field: keyof IdleHoldResult) => fieldOf(outcome, field);
    const ratio = (field: keyof IdleHoldResult, scale = 1, digits = 0) =>
      withRatio(value(field) === undefined ? undefined : value(field)! / scale, fieldOf(base, field) === undefined ? undefined : fieldOf(base, field)! / scale, digits);
    if (isNa(outcome)) {
      lines.push(`| ${LABELS[target]} | n/a | | | | | | | | |`);
      continue;
    }
    const result = outcome as IdleHoldResult;
    lines.push(
      `| ${LABELS[target]} | ${number(result.held)} of ${number(result.asked)} | ${ratio('connectsPerSecond')} | ` +
        `${mib(result.baselineRss)} (${number(result.settleSeconds)} s) | ${ratio('rssPerConnection', 1024, 1)} | ${ratio('heapPerConnection', 1024, 1)} | ` +
        `${mib(result.oldSpaceCommitted)} / ${mib(result.oldSpaceUsed)} | ${number(result.drops)} | ${ratio('idleCpuPercent', 1, 2)} | ${mib(result.rssAfterDisconnect)} (${signedMib(result.rssAfterDisconnect - result.baselineRss)} on the baseline) |`,
    );
  }
  const limited = targets.map((target) => results.get(target)).filter((outcome) => !isNa(outcome) && (outcome as IdleHoldResult).held < options.holdConnections);
  if (limited.length > 0) {
    const files = limited.map((outcome) => (outcome as IdleHoldResult).serverFiles).filter((count) => count !== undefined);
    lines.push(
      '',
      `A process here may have ${number((limited[0] as IdleHoldResult).serverFileLimit ?? Number.NaN)} files open (\`ulimit -n\`, hard limit): ` +
        `a server holds at most that many sockets less its own descriptors (${files.map((count) => number(count)).join(', ')} before any client) and ` +
        'the negotiate requests\' keep-alive sockets still open.',
    );
  }
  lines.push('');
  return lines;
}

function signedMib(bytes: number): string {
  return `${bytes >= 0 ? '+' : '−'}${number(Math.abs(bytes) / MIB)}`;
}

export function renderSlowFanout(options: BenchOptions, targets: readonly TargetId[], results: Map<string, Outcome<SlowFanoutResult>>, notes: string[]): string[] {
  const lines = [
    `## Fan-out to ${number(options.slowFanout)} members with ${options.slowFanoutPercent}% not reading`,
    '',
    `${number(options.slowFanoutBroadcasts)} broadcasts of ${number(options.slowFanoutPayloadBytes)} bytes of filler, back to back with at most ` +
      `${options.slowFanoutWindow} on their way, to a group of ${number(options.slowFanout)}; in the second cell ${options.slowFanoutPercent}% of the ` +
      'members stopped reading after joining. Deliveries per second count the reading members only, from the first send to the ' +
      'last receipt. Target: the slow cell within 10% of the all-reading one.',
    '',
    '| server | deliveries per second, all reading | with slow members | ratio | p99 send → receipt, ms (all / slow) | server CPU µs per delivery (all / slow) | peak RSS, MiB (all / slow) | slow members closed by the server | within 10% |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const target of targets) {
    const all = results.get(slowFanoutKey(target, 'all'));
    const slow = results.get(slowFanoutKey(target, 'slow'));
    notes.push(noteOf(`${LABELS[target]}, fan-out all reading`, all) ?? '', noteOf(`${LABELS[target]}, fan-out with slow members`, slow) ?? '');
    const pair = (field: keyof SlowFanoutResult, digits: number, scale = 1) =>
      `${number((fieldOf(all, field) ?? Number.NaN) / scale, digits)} / ${number((fieldOf(slow, field) ?? Number.NaN) / scale, digits)}`;
    const fast = fieldOf(all, 'deliveriesPerSecond');
    const slowRate = fieldOf(slow, 'deliveriesPerSecond');
    const ratio = fast !== undefined && slowRate !== undefined ? slowRate / fast : undefined;
    const closed = isNa(slow) ? 'n/a' : closedText(slow as SlowFanoutResult);
    lines.push(
      `| ${LABELS[target]} | ${number(fast ?? Number.NaN)} | ${number(slowRate ?? Number.NaN)} | ${ratio === undefined ? 'n/a' : ratio.toFixed(2)} | ` +
        `${pair('p99Ms', 1)} | ${pair('cpuPerDelivery', 2)} | ${pair('peakRss', 0, MIB)} | ${closed} | ${ratio === undefined ? 'n/a' : ratio >= 0.9 ? 'yes' : 'no'} |`,
    );
  }
  lines.push('');
  return lines;
}

function closedText(result: SlowFanoutResult): string {
  const reasons = Object.entries(result.closeReasons ?? {}).map(([reason, count]) => `${count} × ${reason}`);
  return `${result.slowClosed ?? 0} of ${result.slow}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`;
}
