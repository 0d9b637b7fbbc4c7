// One husk unpack as its own process, as `husk load`/`pull` would run it: prints
// {"ms": in-process time, "digest", "diffId", "entries"} (bench/unpack.mjs times the process).
const t = performance.now();
const { unpackLayer } = await import(new URL('../dist/ts/image/unpack.js', import.meta.url).href);
const [blob, dest, zstd] = process.argv.slice(2);
const r = await unpackLayer(blob, dest, zstd === 'inline' ? { zstdProgram: null } : {});
console.log(JSON.stringify({ ms: performance.now() - t, digest: r.digest, diffId: r.diffId, entries: r.entries }));
