// Statistics and the bench's outputs: bench/results/latest.{json,md,svg} and a dated copy.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

/** Linear-interpolated quantile of sorted values. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const ms = (ns) => ns / 1e6;
const round = (x, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

export function summarize({ cases, samples, throughput, footprint, trace, meta }) {
  const rows = cases.map((c) => {
    const s = samples[c.name];
    const ok = s.ns.filter((_, i) => s.status[i] === 0).sort((a, b) => a - b);
    const row = {
      name: c.name, group: c.group, what: c.what, floor: c.floor,
      status: c.status === 'ok' && ok.length === 0 ? 'failed' : c.status,
      reason: c.reason ?? (c.status === 'ok' && ok.length === 0 ? c.failureNote || 'every run failed' : undefined),
      n: ok.length,
      failures: c.failures ?? 0,
      medianMs: round(ms(quantile(ok, 0.5))),
      p10Ms: round(ms(quantile(ok, 0.1))),
      p90Ms: round(ms(quantile(ok, 0.9))),
      meanMs: round(ms(ok.reduce((a, b) => a + b, 0) / ok.length)),
      peakRssKb: c.kind === 'exec' && s.rssKb.length ? Math.max(...s.rssKb) : null,
      argv: c.argv,
    };
    if (row.status !== 'ok') for (const k of ['medianMs', 'p10Ms', 'p90Ms', 'meanMs']) row[k] = null;
    return row;
  });
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  for (const r of rows) {
    const f = byName[r.floor];
    r.ratio = r.status === 'ok' && f?.status === 'ok' ? round(r.medianMs / f.medianMs, 2) : null;
    r.ratioToFloor = r.status === 'ok' && byName.floor?.status === 'ok' ? round(r.medianMs / byName.floor.medianMs, 2) : null;
  }
  if (throughput.floor?.perSecond && throughput.api?.perSecond) {
    throughput.apiOverFloor = round(throughput.floor.perSecond / throughput.api.perSecond, 2);
  }
  return { meta, cases: rows, throughput, footprint, trace, goals: goals(byName, throughput) };
}

/** The goals of issue 6, measured. */
function goals(c, tp) {
  const g = [];
  const within = (name, label, limit) => {
    const r = c[name];
    g.push({
      goal: label,
      measured: r?.ratio != null ? `${r.ratio}× (${r.medianMs} ms vs ${c[r.floor].medianMs} ms)` : `n/a (${r?.reason ?? 'not run'})`,
      met: r?.ratio != null ? r.ratio <= limit : null,
    });
  };
  within('husk-launcher', 'launcher alone within 1.5× of the floor', 1.5);
  within('husk-api', 'API (warm) within 1.5× of the floor', 1.5);
  const p = c['husk-api-prepared'];
  g.push({
    goal: "API with a sandbox made ahead: start below the floor's whole start",
    measured: p?.ratio != null ? `${p.ratio}× (${p.medianMs} ms vs ${c.floor.medianMs} ms)` : `n/a (${p?.reason ?? 'not run'})`,
    met: p?.ratio != null ? p.ratio < 1 : null,
  });
  const cli = c['husk-cli'];
  const node = c['node-e-0'];
  g.push({
    goal: 'husk run from a cold shell within node -e 0 + 10 ms',
    measured: cli?.medianMs != null && node?.medianMs != null ? `${cli.medianMs} ms vs ${round(node.medianMs + 10)} ms (node -e 0 = ${node.medianMs} ms)` : `n/a (${cli?.reason ?? 'not run'})`,
    met: cli?.medianMs != null && node?.medianMs != null ? cli.medianMs <= node.medianMs + 10 : null,
  });
  g.push({
    goal: "throughput (API, 2 in flight) within 1.5× of the floor's",
    measured: tp.apiOverFloor != null ? `${round(tp.api.perSecond, 0)}/s vs ${round(tp.floor.perSecond, 0)}/s (floor ${tp.apiOverFloor}× faster)` : `n/a (${tp.api?.error ?? 'not run'})`,
    met: tp.apiOverFloor != null ? tp.apiOverFloor <= 1.5 : null,
  });
  return g;
}

// ---------------------------------------------------------------- markdown

function fmt(x, d = 2) {
  return x == null ? '' : Number(x).toFixed(d);
}

function kb(x) {
  return x == null || !Number.isFinite(x) ? 'n/a' : x >= 10240 ? `${(x / 1024).toFixed(1)} MiB` : `${x} KiB`;
}

function bytes(x) {
  return x == null ? 'n/a' : x >= 1 << 20 ? `${(x / (1 << 20)).toFixed(1)} MiB` : `${(x / 1024).toFixed(1)} KiB`;
}

function leakText(l) {
  if (!l) return 'not checked';
  const parts = [];
  if (l.mounts?.length) parts.push(`${l.mounts.length} mount(s): ${l.mounts.slice(0, 3).join('; ')}`);
  if (l.cgroups?.length) parts.push(`${l.cgroups.length} cgroup(s): ${l.cgroups.slice(0, 3).join(', ')}`);
  if (l.processes?.length) parts.push(`${l.processes.length} process(es): ${l.processes.slice(0, 3).join('; ')}`);
  return parts.length ? `**LEAK** ${parts.join(' · ')}` : 'none (mountinfo of pid 1 unchanged, no new cgroup, no process left)';
}

const GROUP_TITLE = {
  husk: 'husk', limits: 'with memory + pids limits', layers: 'with a 3-layer image', many: 'a 1-layer image beside a 300-layer one (the same files)', peers: 'peers', floor: 'floors', baseline: 'baselines',
};

export function markdown(r) {
  const m = r.meta;
  const L = [];
  L.push(`# husk bench — ${m.date}${m.quick ? ' (quick)' : ''}`);
  L.push('');
  L.push(`\`/bin/true\` in a busybox rootfs, new pid, mount, uts, ipc, net and cgroup namespaces. ` +
    `${m.warmup} warm-up + ${m.iterations} rounds, every case once per round (round-robin). ` +
    `Times in ms, start → exit. × floor = median / median of the floor with the same features ` +
    `(\`floor\`, \`floor+limits\` or \`floor+3layers\`).`);
  L.push('');
  L.push('| case | median | p10 | p90 | × floor | peak RSS | n | what |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---|');
  let group = null;
  for (const c of r.cases) {
    if (c.group !== group) {
      group = c.group;
      L.push(`| **${GROUP_TITLE[group] ?? group}** | | | | | | | |`);
    }
    if (c.status === 'ok') {
      const fails = c.failures ? ` (${c.failures} failed)` : '';
      L.push(`| ${c.name} | ${fmt(c.medianMs)} | ${fmt(c.p10Ms)} | ${fmt(c.p90Ms)} | ${c.ratio == null ? '' : `${fmt(c.ratio)}×`} | ${c.peakRssKb ? kb(c.peakRssKb) : ''} | ${c.n}${fails} | ${c.what} |`);
    } else {
      const label = c.status === 'na' ? (/^not supported yet/.test(c.reason ?? '') ? 'n/a (not supported yet)' : 'n/a') : 'failed';
      L.push(`| ${c.name} | ${label} | | | | | | ${c.what}: ${c.reason ?? ''} |`);
    }
  }
  L.push('');
  L.push('![ratios to the floor](latest.svg)');
  L.push('');
  L.push('## Throughput');
  L.push('');
  const tp = r.throughput;
  L.push('| | containers | in flight | seconds | per second | leaks after |');
  L.push('|---|---:|---:|---:|---:|---|');
  for (const [name, t] of [['floor', tp.floor], ['husk API', tp.api]]) {
    if (!t) continue;
    if (t.perSecond) L.push(`| ${name} | ${t.count} | ${t.parallel} | ${fmt(t.seconds, 3)} | ${fmt(t.perSecond, 0)}${t.failed ? ` (${t.failed} failed${t.firstError ? `: ${t.firstError}` : ''})` : ''} | ${leakText(t.leaks)} |`);
    else L.push(`| ${name} | | | | ${t.status === 'na' ? 'n/a (not supported yet)' : 'failed'}: ${t.error} | ${leakText(t.leaks)} |`);
  }
  L.push('');
  L.push('## Footprint');
  L.push('');
  L.push('| | binary | monitor RSS (container running) | monitor peak RSS |');
  L.push('|---|---:|---:|---:|');
  const fp = r.footprint;
  const mon = (x) => (x?.error ? `n/a (${x.error})` : kb(x?.rssKb));
  const hwm = (x) => (x?.error ? '' : kb(x?.hwmKb));
  L.push(`| husk-launcher | ${bytes(fp.launcher.binaryBytes)} | ${mon(fp.launcher.monitor)} | ${hwm(fp.launcher.monitor)} |`);
  L.push(`| conmon (with runc) | ${bytes(fp.conmon.binaryBytes)} | ${mon(fp.conmon.monitor)} | ${hwm(fp.conmon.monitor)} |`);
  L.push(`| runc run (foreground) | ${bytes(fp.runc.binaryBytes)} | ${mon(fp.runc.monitor)} | ${hwm(fp.runc.monitor)} |`);
  L.push(`| bwrap | ${bytes(fp.bwrap.binaryBytes)} | ${mon(fp.bwrap.monitor)} | ${hwm(fp.bwrap.monitor)} |`);
  L.push(`| floor | ${bytes(fp.floor.binaryBytes)} | ${mon(fp.floor.monitor)} | ${hwm(fp.floor.monitor)} |`);
  if (fp.launcher.peakRssKbWait4) L.push(`\nPeak RSS of \`husk-launcher < plan.bin\` from wait4 (the launcher and its container, whichever is larger): ${kb(fp.launcher.peakRssKbWait4)}.`);
  L.push('');
  L.push('## Goals (issue 6)');
  L.push('');
  L.push('| goal | measured | met |');
  L.push('|---|---|---|');
  for (const g of r.goals) L.push(`| ${g.goal} | ${g.measured} | ${g.met == null ? 'n/a' : g.met ? 'yes' : '**no**'} |`);
  L.push('');
  if (r.trace) {
    L.push("## Where husk's time goes (`husk run --trace`, one run)");
    L.push('');
    L.push('```');
    L.push(r.trace);
    L.push('```');
    L.push('');
  }
  L.push('## Run');
  L.push('');
  const h = m.host;
  L.push(`kernel ${h.kernel}, ${h.cpus} CPUs, node ${h.node}, ${h.runc}, ${h.crun}, ${h.bwrap}${h.launcher ? `, ${h.launcher}` : ''}; ${m.seconds} s in all.`);
  L.push(`Left behind after the run: ${leakText(m.leaksAfterCleanup)}.`);
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------- svg

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
function colorOf(c) {
  if (c.name.startsWith('husk')) return '#e8730c';
  if (c.name.startsWith('floor')) return '#2e9c4b';
  if (c.group === 'baseline') return '#8a8a8a';
  return '#3b6fb6';
}

/** Horizontal bars of × floor on a log scale, one row per case; n/a rows are labelled. */
export function svg(r) {
  const rows = r.cases;
  const left = 190;
  const right = 150;
  const plotW = 560;
  const rowH = 22;
  const top = 56;
  const W = left + plotW + right;
  const H = top + rows.length * rowH + 40;
  const ratios = rows.map((c) => c.ratio).filter((x) => x != null);
  const minR = Math.min(0.5, ...ratios.map((x) => x * 0.8));
  const maxR = Math.max(2, ...ratios.map((x) => x * 1.25));
  const lo = Math.log10(minR);
  const hi = Math.log10(maxR);
  const X = (v) => left + ((Math.log10(v) - lo) / (hi - lo)) * plotW;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="${left}" y="20" font-size="15" font-weight="bold">Start → exit of /bin/true, × the floor (median; log scale)</text>`);
  o.push(`<text x="${left}" y="38" fill="#555">${esc(r.meta.date)}${r.meta.quick ? ' (quick)' : ''} · ${r.meta.iterations} rounds · lower is better</text>`);
  for (const t of [0.5, 1, 1.5, 2, 5, 10, 20, 50, 100, 200, 500, 1000]) {
    if (t < minR || t > maxR) continue;
    const x = X(t).toFixed(1);
    const strong = t === 1 || t === 1.5;
    o.push(`<line x1="${x}" y1="${top - 6}" x2="${x}" y2="${top + rows.length * rowH}" stroke="${t === 1 ? '#2e9c4b' : t === 1.5 ? '#e8730c' : '#ddd'}" stroke-width="${strong ? 1.5 : 1}"${t === 1.5 ? ' stroke-dasharray="4 3"' : ''}/>`);
    o.push(`<text x="${x}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${t}×</text>`);
  }
  rows.forEach((c, i) => {
    const y = top + i * rowH;
    if (i > 0 && rows[i - 1].group !== c.group) o.push(`<line x1="10" y1="${y}" x2="${W - 10}" y2="${y}" stroke="#bbb"/>`);
    o.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(c.name)}</text>`);
    if (c.ratio != null) {
      const x0 = X(minR);
      const x1 = X(c.ratio);
      o.push(`<rect x="${x0.toFixed(1)}" y="${y + 4}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${rowH - 8}" fill="${colorOf(c)}"/>`);
      o.push(`<text x="${(x1 + 5).toFixed(1)}" y="${y + 15}">${c.ratio.toFixed(2)}× · ${c.medianMs.toFixed(2)} ms</text>`);
    } else {
      const label = c.status === 'na' ? (/^not supported yet/.test(c.reason ?? '') ? 'n/a (not supported yet)' : 'n/a') : 'failed';
      o.push(`<text x="${X(minR) + 4}" y="${y + 15}" fill="#999" font-style="italic">${label}</text>`);
    }
  });
  o.push(`<text x="${left}" y="${H - 6}" fill="#555">orange: husk · blue: runc, crun, bwrap, unshare · green: floors (1× line) · grey: baselines · dashed: 1.5× goal</text>`);
  o.push('</svg>');
  return o.join('\n') + '\n';
}

export function writeReports(result, { save = true } = {}) {
  const md = markdown(result);
  if (save) {
    fs.mkdirSync(RESULTS, { recursive: true });
    const json = JSON.stringify(result, null, 2) + '\n';
    const pic = svg(result);
    const stamp = result.meta.date.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z') + (result.meta.quick ? '-quick' : '');
    fs.writeFileSync(path.join(RESULTS, 'latest.md'), md);
    fs.writeFileSync(path.join(RESULTS, 'latest.json'), json);
    fs.writeFileSync(path.join(RESULTS, 'latest.svg'), pic);
    fs.writeFileSync(path.join(RESULTS, `${stamp}.md`), md.replace('(latest.svg)', `(${stamp}.svg)`));
    fs.writeFileSync(path.join(RESULTS, `${stamp}.json`), json);
    fs.writeFileSync(path.join(RESULTS, `${stamp}.svg`), pic);
  }
  return md;
}
