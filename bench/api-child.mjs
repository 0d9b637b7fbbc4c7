// api-child: the API cases of the bench, in a Node process of their own (a warm orchestrator).
//
//   node bench/api-child.mjs JSON
//
// JSON: { root, rootfs, variant: 'basic'|'spawn'|'limits'|'layers'|'prepared', mode: 'serve'|'throughput',
//         count, parallel, limits, layers }
//
// serve: prints "ready" (or why the case cannot run: "n/a (not supported yet): ..." or
//   "failed: ..."), then for each "run" line on stdin runs one container and prints
//   "NANOSECONDS STATUS", timed with process.hrtime from the call to its result. bench/runner
//   drives it between the other cases, so it is interleaved like them.
// throughput: runs `count` containers with `parallel` in flight and prints one JSON line
//   { count, parallel, seconds, failed, firstError }.
import { createInterface } from 'node:readline';

const cfg = JSON.parse(process.argv[2]);
const out = (line) => process.stdout.write(line + '\n');

/** Does husk reject a flag/option it does not know yet? Then the case is n/a, not failed. */
export function notSupported(msg) {
  return /unknown (flag|option)|not supported|unsupported|unable to find image|no such image|ignores|not implemented|not yet/i.test(msg);
}

function firstLine(err) {
  return String(err?.message ?? err).split('\n')[0].slice(0, 200);
}

let Husk;
try {
  ({ Husk } = await import(new URL('../dist/ts/api.js', import.meta.url).href));
} catch (err) {
  out(`failed: husk API not built (dist/ts/api.js): ${firstLine(err)}`);
  process.exit(0);
}

const h = new Husk({ root: cfg.root });
const base = { rootfs: cfg.rootfs, command: ['/bin/true'], stdio: 'ignore' };

function optionsFor(variant) {
  if (variant === 'limits') return { ...base, ...cfg.limits };
  // run() goes through the warm launcher server for stdio 'ignore'; 'spawn' measures the
  // other path, one launcher spawned from Node per container.
  if (variant === 'spawn') return { ...base, server: false };
  if (variant === 'layers') {
    const o = { ...base, ...cfg.layers };
    if (o.image !== undefined) delete o.rootfs;
    return o;
  }
  if (variant === 'one' || variant === 'many') {
    const o = { ...base, image: cfg.many[variant] };
    delete o.rootfs;
    return o;
  }
  return base;
}

function samePlan(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Checks that the variant can run here; returns null or the reason it cannot. */
async function probe(opts) {
  if (cfg.variant === 'limits') {
    // toFlags ignores options it does not know: a plan identical to the plain one means the
    // limits would be silently dropped, which is not a measurement of limits.
    try {
      // the host name defaults to a fresh container id: pin it so only the limits can differ
      if (samePlan(h.plan({ ...base, hostname: 'bench' }), h.plan({ ...opts, hostname: 'bench' }))) return `n/a (not supported yet): the API ignores ${Object.keys(cfg.limits).join(', ')}`;
    } catch (err) {
      const m = firstLine(err);
      return notSupported(m) ? `n/a (not supported yet): ${m}` : `failed: ${m}`;
    }
  }
  if (cfg.variant === 'prepared' && typeof h.create !== 'function') {
    return 'n/a (not supported yet): no create()/start() in the API (create ahead, start on demand)';
  }
  try {
    const r = await runOne(opts);
    if (r.exitCode !== 0) return `failed: /bin/true exited ${r.exitCode}`;
  } catch (err) {
    const m = firstLine(err);
    return notSupported(m) ? `n/a (not supported yet): ${m}` : `failed: ${m}`;
  }
  return null;
}

/** One container; for 'prepared', create untimed and time start() to exit. */
async function runOne(opts, timed) {
  if (cfg.variant === 'prepared') {
    // create() resolves when the container waits right before exec (READY); start()
    // resolves when the exec succeeded (STARTED): asking → the container's first instruction.
    const c = await h.create(opts);
    const t0 = process.hrtime.bigint();
    const r = await c.start();
    const t1 = process.hrtime.bigint();
    if (typeof c.wait === 'function') await c.wait();
    if (timed) timed.ns = t1 - t0;
    return r ?? { exitCode: 0 };
  }
  const t0 = process.hrtime.bigint();
  const r = await h.run(opts);
  if (timed) timed.ns = process.hrtime.bigint() - t0;
  return r;
}

const opts = optionsFor(cfg.variant);
const why = await probe(opts);

if (cfg.mode === 'throughput') {
  if (why) {
    out(JSON.stringify({ error: why }));
    process.exit(0);
  }
  let started = 0;
  let failed = 0;
  let firstError = null;
  const t0 = process.hrtime.bigint();
  async function lane() {
    while (started < cfg.count) {
      started++;
      try {
        const r = await h.run(opts);
        if (r.exitCode !== 0) failed++;
      } catch (err) {
        failed++;
        firstError ??= firstLine(err);
      }
    }
  }
  await Promise.all(Array.from({ length: cfg.parallel }, lane));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  out(JSON.stringify({ count: cfg.count, parallel: cfg.parallel, seconds, failed, firstError }));
  process.exit(0);
}

if (why) {
  out(why);
  process.exit(0);
}
out('ready');
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (line.trim() !== 'run') continue;
  const timed = { ns: 0n };
  let status;
  try {
    status = (await runOne(opts, timed)).exitCode;
  } catch (err) {
    process.stderr.write(`api-child: ${firstLine(err)}\n`);
    status = 125;
  }
  out(`${timed.ns} ${status}`);
}
