// Reads a bench run's output with the servers' `--trace-gc-nvp` lines
// (`BENCH_SERVER_FLAGS=--trace-gc-nvp npm run bench -- ... | node bench/gc-promoted.mjs`) and
// prints, per server process, what its scavenges promoted to the old generation and what its
// full collections left: objects promoted and then dead are the room V8 leaves in old space.
import { createInterface } from 'node:readline';

const processes = new Map();
for await (const line of createInterface({ input: process.stdin })) {
  const pid = /^\[(\d+):/.exec(line)?.[1];
  if (pid === undefined || !line.includes(' gc=')) continue;
  const fields = Object.fromEntries(line.split(' ').filter((field) => field.includes('=')).map((field) => field.split('=', 2)));
  const entry = processes.get(pid) ?? { scavenges: 0, promoted: 0, fullCollections: 0, lastSizeAfter: 0 };
  if (fields.gc === 's') {
    entry.scavenges++;
    entry.promoted += Number(fields.promoted);
  } else {
    entry.fullCollections++;
    entry.lastSizeAfter = Number(fields.total_size_after);
  }
  processes.set(pid, entry);
}
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
for (const [pid, { scavenges, promoted, fullCollections, lastSizeAfter }] of processes) {
  console.log(`server ${pid}: ${scavenges} scavenges promoted ${mib(promoted)} MiB; ${fullCollections} full collections, the last leaving ${mib(lastSizeAfter)} MiB`);
}
