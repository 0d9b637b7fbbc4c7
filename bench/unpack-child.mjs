// One husk unpack as its own process, as `husk load`/`pull` would run it: prints
// {"ms": in-process time, "digest", "diffId", "entries", and CPU ms: "mainCpu" (the main
// thread, the unpack's critical path), "cpu" (every thread of this process: decoders,
// hashing threads, V8's helpers) and "childCpu" (the launcher writing the files, a zstd
// child)} (bench/unpack.mjs times the process). Compare CPU, not ms, on a busy machine.
import { readFileSync } from 'node:fs';

const t = performance.now();
const { unpackLayer } = await import(new URL('../dist/ts/image/unpack.js', import.meta.url).href);
const [blob, dest, zstd] = process.argv.slice(2);
const r = await unpackLayer(blob, dest, zstd === 'inline' ? { zstdProgram: null } : {});
const ms = performance.now() - t;
/** utime+stime (fields 14, 15) and cutime+cstime (16, 17) of a /proc stat line, in ms (USER_HZ 100). */
const stat = (path) => readFileSync(path, 'utf8').split(') ')[1].split(' ').map(Number);
const main = stat(`/proc/self/task/${process.pid}/stat`);
const all = stat('/proc/self/stat');
const cpu = process.cpuUsage();
console.log(JSON.stringify({
  ms,
  mainCpu: (main[11] + main[12]) * 10,
  cpu: Math.round((cpu.user + cpu.system) / 1000),
  childCpu: (all[13] + all[14]) * 10,
  digest: r.digest,
  diffId: r.diffId,
  entries: r.entries,
}));
