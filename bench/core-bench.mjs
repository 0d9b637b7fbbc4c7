#!/usr/bin/env node
// npm run bench:core: entries per second through the policy core (Wasm, build/core.wasm)
// beside the plain TypeScript reference (test/reference/), in one run. Each Wasm figure
// includes what a caller pays: encoding the request frames, the call, decoding the answer.
// The "core only" column is the Wasm call alone (request already encoded).
import '../scripts/register-ts.mjs';

const { call } = await import('../ts/core/wasm.ts');
const cg = await import('../ts/core/cgroup.ts');
const wo = await import('../ts/core/whiteout.ts');
const ps = await import('../ts/core/pathsafe.ts');
const refCg = await import('../test/reference/cgroup.ts');
const refWo = await import('../test/reference/whiteout.ts');
const refPs = await import('../test/reference/pathsafe.ts');
const im = await import('../ts/core/idmap.ts');
const refIm = await import('../test/reference/idmap.ts');

const seconds = Number(process.env.BENCH_SECONDS ?? '1');

function measure(fn) {
  fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

function layer(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const dir = `usr/share/doc/package-${Math.floor(i / 10)}`;
    if (i % 10 === 0) out.push({ path: dir, type: 2, size: 0n, rdev: 0n });
    else if (i % 10 === 5) out.push({ path: `${dir}/.wh.old-${i}`, type: 1, size: 0n, rdev: 0n });
    else if (i % 97 === 0) out.push({ path: `${dir}/.wh..wh..opq`, type: 1, size: 0n, rdev: 0n });
    else out.push({ path: `${dir}/file-${i}.txt`, type: 1, size: 100n, rdev: 0n });
  }
  return out;
}

function items(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i % 20 === 0) out.push({ kind: 2, name: `usr/lib/link-${i}`, target: `../../lib/x86_64-linux-gnu/lib-${i}.so` });
    else if (i % 20 === 1) out.push({ kind: 3, name: `usr/bin/hard-${i}`, target: `usr/bin/prog-${i}` });
    else out.push({ kind: 1, name: `usr/share/doc/package-${Math.floor(i / 10)}/file-${i}.txt`, target: '' });
  }
  return out;
}

const rows = [];
function row(name, unit, perOp, wasm, core, reference) {
  rows.push({ name, unit, wasm: wasm * perOp, core: core * perOp, reference: reference * perOp });
}

// cgroup: one request of five flags (ops/s = requests per second).
{
  const host = { layout: 2, cpus: 2n, mems: 1n, flags: 0n };
  const flags = [
    { name: 'memory', value: '512m' }, { name: 'memory-swap', value: '1g' }, { name: 'cpus', value: '1.5' },
    { name: 'pids-limit', value: '100' }, { name: 'device-read-bps', value: '8:0:1mb' },
  ];
  const req = cg.encodeCgroupRequest(host, flags);
  row('cgroupWrites (5 flags)', 'requests/s', 1,
    measure(() => cg.cgroupWrites(host, flags)), measure(() => call('cgroupWrites', req)), measure(() => refCg.cgroupWrites(host, flags)));
}

const N = Number(process.env.BENCH_ENTRIES ?? '20000');
const entries = layer(N);
// "core only" calls every batch the wrapper would send (a 20k-entry layer is two ~1 MiB calls).
const layerReqs = wo.encodeLayerRequests(entries);
const callAll = (entry, reqs) => () => { for (const r of reqs) call(entry, r); };
row(`whiteoutClassify (${N} entries)`, 'entries/s', N,
  measure(() => wo.classifyLayer(entries)), measure(callAll('whiteoutClassify', layerReqs)), measure(() => refWo.classify(0, entries)));
row(`whiteoutToOverlay (${N} entries)`, 'entries/s', N,
  measure(() => wo.layerToOverlay(entries)), measure(callAll('whiteoutToOverlay', layerReqs)), measure(() => refWo.toOverlay(0, entries, false)));
row(`whiteoutFlatten (${N} entries)`, 'entries/s', N,
  measure(() => wo.layerFlatten(entries)), measure(callAll('whiteoutFlatten', layerReqs)), measure(() => refWo.flatten(0, entries)));
const upper = entries.filter((e) => !e.path.endsWith('.wh..wh..opq')).map((e) => ({ path: e.path.replace('.wh.', ''), type: e.path.includes('.wh.') ? 5 : e.type, rdev: 0n, xattrs: e.type === 2 && e.path.endsWith('0') ? ['trusted.overlay.opaque=y'] : [] }));
const seen = new Set();
const upperUnique = upper.filter((u) => !seen.has(u.path) && seen.add(u.path));
const upperReqs = wo.encodeUpperRequests(upperUnique);
row(`whiteoutFromOverlay (${upperUnique.length} entries)`, 'entries/s', upperUnique.length,
  measure(() => wo.overlayToLayer(upperUnique)), measure(callAll('whiteoutFromOverlay', upperReqs)), measure(() => refWo.fromOverlay(0, upperUnique, false)));
const pathItems = items(N);
const pathReq = ps.encodePathRequest(0, pathItems);
row(`pathVerdicts (${N} items)`, 'entries/s', N,
  measure(() => ps.pathVerdicts(pathItems)), measure(() => call('pathVerdicts', pathReq)), measure(() => refPs.pathVerdicts(0, pathItems)));

// uid/gid maps: one request each (maps/s), and a batch of ids translated (ids/s).
{
  const spec = { mode: 'maps', uidmap: ['0:200000:1000', '1000:300000:1', '1001:201000:64535'], gidmap: ['0:200000:65536'] };
  const req = im.encodeIdmapRequest(spec);
  row('idmapCompute (3 --uidmap lines)', 'maps/s', 1,
    measure(() => im.computeIdmap(spec)), measure(() => call('idmapCompute', req)), measure(() => refIm.computeIdmap(spec)));
  const subuid = Array.from({ length: 10000 }, (_, i) => `user${i}:${100000 + i * 65536}:65536`).join('\n') + '\nalice:900000000:65536\n';
  const rootless = { mode: 'keep-id', caller: { rootless: true, uid: 1000, gid: 1000, name: 'alice' }, subuid, subgid: subuid };
  const rootlessReq = im.encodeIdmapRequest(rootless);
  row('idmapCompute (keep-id, 10k-line subuid)', 'maps/s', 1,
    measure(() => im.computeIdmap(rootless)), measure(() => call('idmapCompute', rootlessReq)), measure(() => refIm.computeIdmap(rootless)));
  const maps = im.computeIdmap(spec);
  const ids = Array.from({ length: N }, (_, i) => i % 70000);
  const queries = [{ kind: 'uid', direction: 'to-host', ids }];
  const tReq = im.encodeTranslateRequest(maps, queries);
  row(`idmapTranslate (${N} ids)`, 'ids/s', N,
    measure(() => im.translateIds(maps, queries)), measure(() => call('idmapTranslate', tReq)), measure(() => refIm.translate(maps, queries)));
}

const fmt = (x) => Math.round(x).toLocaleString('en-US').padStart(13);
console.log(`policy core bench (${seconds} s per figure)`);
console.log(`${'entry point'.padEnd(34)} ${'unit'.padEnd(11)} ${'wasm+codec'.padStart(13)} ${'core only'.padStart(13)} ${'TS reference'.padStart(13)}  wasm/ref  core/ref`);
for (const r of rows) {
  console.log(`${r.name.padEnd(34)} ${r.unit.padEnd(11)} ${fmt(r.wasm)} ${fmt(r.core)} ${fmt(r.reference)}  ${(r.wasm / r.reference).toFixed(2).padStart(8)}  ${(r.core / r.reference).toFixed(2).padStart(8)}`);
}
