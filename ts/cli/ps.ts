// husk ps: the containers husk knows, docker's columns (running ones; -a: exited too).
import type { LifecycleCommand } from './args-lifecycle.js';
import { escapeControls } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import { exitCode, statusOfRecord, sweep } from '../runtime/records.js';
import type { ContainerStatus } from '../runtime/records.js';
import type { ContainerRecord } from '../runtime/state.js';

/** `3 seconds`, `5 minutes`, `2 hours`, as docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  return `${Math.round(h / 24)} days`;
}

export function statusText(rec: ContainerRecord, status: ContainerStatus, now = Date.now()): string {
  if (status === 'exited') {
    const when = rec.finished ? ` ${humanDuration(now - Date.parse(rec.finished))} ago` : '';
    return `Exited (${exitCode(rec.exit)})${when}`;
  }
  if (status === 'created') return 'Created';
  const up = `Up ${humanDuration(now - Date.parse(rec.started ?? rec.created))}`;
  return status === 'paused' ? `${up} (Paused)` : up;
}

/**
 * The COMMAND column: the argv quoted and cut at `max`, as docker shows it. Control characters
 * are escaped first (a newline in an argument must not start a row of its own), so the cut
 * counts what a person sees.
 */
export function commandText(argv: readonly string[] | undefined, max = 20): string {
  const text = escapeControls((argv ?? []).join(' '));
  return `"${text.length > max ? `${text.slice(0, max - 1)}…` : text}"`;
}

export async function psCommand(cmd: Extract<LifecycleCommand, { name: 'ps' }>): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  const host = records.some((r) => r.cgroups?.length) ? await cgroupHost() : undefined;
  const now = Date.now();
  const rows = records
    .map((rec) => ({ rec, status: statusOfRecord(rec, host) }))
    .filter((r) => cmd.all || r.status === 'running' || r.status === 'paused') // docker's: -a adds Created and Exited
    .sort((a, b) => Date.parse(b.rec.created) - Date.parse(a.rec.created));
  if (cmd.quiet) {
    process.stdout.write(rows.map((r) => `${r.rec.id.slice(0, 12)}\n`).join(''));
    return 0;
  }
  if (cmd.format === 'json') {
    for (const { rec, status } of rows) {
      process.stdout.write(
        JSON.stringify({
          ID: rec.id.slice(0, 12),
          Image: rec.image ?? '',
          // JSON escapes control characters itself: the value stays the command as given.
          Command: `"${(rec.argv ?? []).join(' ')}"`,
          CreatedAt: rec.created,
          State: status,
          Status: statusText(rec, status, now),
          Names: rec.name ?? '',
        }) + '\n',
      );
    }
    return 0;
  }
  const table = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES']];
  for (const { rec, status } of rows) {
    table.push([rec.id.slice(0, 12), rec.image ?? '', commandText(rec.argv), `${humanDuration(now - Date.parse(rec.created))} ago`, statusText(rec, status, now), rec.name ?? '']);
  }
  process.stdout.write(formatTable(table));
  return 0;
}

/**
 * Columns padded to their widest cell, three spaces apart, as docker prints them. Every cell is
 * escaped (names, commands and /proc text are the containers' own): one row, one line.
 */
export function formatTable(cells: string[][]): string {
  const rows = cells.map((r) => r.map(escapeControls));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd() + '\n').join('');
}
