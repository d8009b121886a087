import type { CrossNodeSetup } from './cross-node.js';
import type { TargetId } from './options.js';
import type { ShardCell } from './shards.js';

// What every table of the report shares: where a result is kept, what a server is called, how a cell reads.

/** A scenario's result for one server, or why there is none. */
export type Outcome<T> = T | { readonly na: string };

export const LABELS: Record<TargetId, string> = {
  'raw-ws': '(a) bare ws',
  'nest-ws': '(b) Nest + platform-ws',
  'nest-socketio': '(c) Nest + platform-socket.io',
  'signalr-json': '(d) nestjs-signalr, JSON',
  'signalr-msgpack': '(d) nestjs-signalr, MessagePack',
  'signalr-sse': '(d) nestjs-signalr, SSE (JSON)',
  'signalr-lp': '(d) nestjs-signalr, long polling (JSON)',
  'aspnetcore-json': '(e) ASP.NET Core 10, JSON',
  'aspnetcore-msgpack': '(e) ASP.NET Core 10, MessagePack',
};

export const key = (target: TargetId, size: number) => `${target}:${size}`;
export const crossNodeKey = (target: TargetId, size: number, setup: CrossNodeSetup) => `${target}:${size}:${setup}`;
export const shardsKey = (target: TargetId, { traffic, nodes, backplane }: ShardCell) => `${target}:${traffic}:${nodes}:${backplane}`;

export const isNa = <T extends object>(outcome: Outcome<T> | undefined): outcome is { na: string } | undefined => outcome === undefined || 'na' in outcome;

export function number(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `value (ratio×)` against the bare ws server's value of the same metric. */
export function withRatio(value: number | undefined, base: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  const ratio = base !== undefined && Number.isFinite(base) && base > 0 ? ` (${(value / base).toFixed(2)}×)` : '';
  return `${number(value, digits)}${ratio}`;
}

export function fieldOf<T extends object>(outcome: Outcome<T> | undefined, field: keyof T): number | undefined {
  return isNa(outcome) ? undefined : ((outcome as T)[field] as number | undefined);
}

export function noteOf(label: string, outcome: Outcome<{ note?: string }> | undefined): string | undefined {
  if (outcome === undefined) return undefined;
  if ('na' in outcome) return `${label}: n/a, ${outcome.na}`;
  return outcome.note ? `${label}: ${outcome.note}` : undefined;
}
