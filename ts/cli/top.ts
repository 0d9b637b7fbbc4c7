// husk top [-L] CONTAINER: the container's processes as `ps -ef` shows them, or with -L its
// threads as `ps -eLf` does. Processes come from cgroup.procs, threads from v1 `tasks` / v2
// `cgroup.threads` (the kernel's own lists, so nothing escapes by forking), details from /proc.
import { readFileSync } from 'node:fs';
import type { LifecycleCommand } from './args-lifecycle.js';
import { cgroupHost } from '../cgroup/host.js';
import { findContainer, requireRunning, sweep } from '../runtime/records.js';
import { formatTable } from './ps.js';

const TICKS = 100; // USER_HZ

interface Task {
  uid: string;
  pid: number;
  ppid: number;
  lwp: number;
  nlwp: number;
  c: number;
  stime: string;
  tty: string;
  time: string;
  cmd: string;
}

let users: Map<string, string> | undefined;

function userName(uid: string): string {
  if (!users) {
    users = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id !== undefined && !users.has(id)) users.set(id, name);
      }
    } catch {
      // numbers then
    }
  }
  return users.get(uid) ?? uid;
}

function hms(ticks: number): string {
  const s = Math.floor(ticks / TICKS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major === 136) return `pts/${minor}`;
  if (major === 4) return `tty${minor}`;
  return `${major}:${minor}`;
}

function startText(startTicks: number, boot: number): string {
  const d = new Date((boot + startTicks / TICKS) * 1000);
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d.toDateString() === now.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${d.toLocaleString('en-US', { month: 'short' })}${pad(d.getDate())}`;
}

/** One task (a process, or one thread of it) from /proc; undefined when it is gone. */
export function readTask(pid: number, tid: number, boot: number, uptime: number): Task | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1] ?? '?';
    // As ps: arguments joined by spaces, control characters shown as '?'.
    // eslint-disable-next-line no-control-regex
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').replace(/[\x00-\x1f\x7f]/g, '?');
    const used = Number(f[11]) + Number(f[12]);
    const start = Number(f[19]);
    const alive = uptime - start / TICKS;
    return {
      uid: userName(uid),
      pid,
      ppid: Number(f[1]),
      lwp: tid,
      nlwp: Number(f[17]),
      c: alive > 0 ? Math.floor((used / TICKS / alive) * 100) : 0,
      stime: startText(start, boot),
      tty: ttyName(Number(f[4])),
      time: hms(used),
      cmd: cmdline || `[${comm}]`,
    };
  } catch {
    return undefined;
  }
}

function tgidOf(tid: number): number | undefined {
  try {
    const m = /^Tgid:\s+(\d+)/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function topCommand(cmd: Extract<LifecycleCommand, { name: 'top' }>): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  const host = await cgroupHost();
  const rec = findContainer(records, cmd.target);
  requireRunning(rec, host, 'top');
  const dirs = host.dirsOf(rec.cgroups ?? []);
  const boot = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const tasks: Task[] = [];
  if (cmd.threads) {
    for (const tid of host.threads(dirs)) {
      const pid = tgidOf(tid);
      const t = pid !== undefined ? readTask(pid, tid, boot, uptime) : undefined;
      if (t) tasks.push(t);
    }
    tasks.sort((a, b) => a.pid - b.pid || a.lwp - b.lwp);
  } else {
    for (const pid of host.processes(dirs)) {
      const t = readTask(pid, pid, boot, uptime);
      if (t) tasks.push(t);
    }
  }
  const header = cmd.threads ? ['UID', 'PID', 'PPID', 'LWP', 'C', 'NLWP', 'STIME', 'TTY', 'TIME', 'CMD'] : ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];
  const rows = [header];
  for (const t of tasks) {
    rows.push(cmd.threads ? [t.uid, String(t.pid), String(t.ppid), String(t.lwp), String(t.c), String(t.nlwp), t.stime, t.tty, t.time, t.cmd] : [t.uid, String(t.pid), String(t.ppid), String(t.c), t.stime, t.tty, t.time, t.cmd]);
  }
  process.stdout.write(formatTable(rows));
  return 0;
}
