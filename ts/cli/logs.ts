// husk logs: a container's output from the log its monitor writes (docs/protocol.md "The
// container log"), stdout lines to stdout and stderr lines to stderr, as docker prints them.
// -f follows the file until the container has ended (its monitor wrote the status file, or is
// gone), then prints what is left.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type { MonitorCommand } from './args-monitor.js';
import { HuskError } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import { findContainer, logPath, statusFilePath, sweep } from '../runtime/records.js';
import { CriLogReader } from '../runtime/cri-log.js';
import type { LogMessage } from '../runtime/cri-log.js';
import { isLive } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';

type LogsCommand = Extract<MonitorCommand, { name: 'logs' }>;

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 50;

export async function logsCommand(cmd: LogsCommand): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  const rec = findContainer(records, cmd.target);
  const path = logPath(cmd.global.root, rec.id);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // A foreground container's output went to the terminal that ran it.
    throw new HuskError('invalid-value', `container ${rec.name ?? rec.id.slice(0, 12)} has no log: only containers run with -d log their output`);
  }
  try {
    const reader = new CriLogReader();
    let offset = 0;
    const readAll = (): LogMessage[] => {
      const out: LogMessage[] = [];
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const n = readSync(fd, buffer, 0, CHUNK, offset);
        if (n === 0) return out;
        offset += n;
        out.push(...reader.push(buffer.subarray(0, n)));
      }
    };
    const first = readAll();
    const ended = !cmd.follow || hasEnded(cmd.global.root, rec);
    if (ended) first.push(...reader.end());
    print(cmd, tail(first.filter((m) => inWindow(cmd, m)), cmd.tail));
    if (ended) return 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      // Read the end after the check: the monitor writes the status file after its last line.
      const done = hasEnded(cmd.global.root, rec);
      const more = readAll();
      if (done) more.push(...reader.end());
      else if (!cmd.timestamps) more.push(...reader.takeOpen()); // a prompt shows at once
      print(cmd, more.filter((m) => inWindow(cmd, m)));
      if (done || (cmd.until !== undefined && BigInt(Date.now()) * 1_000_000n > cmd.until)) return 0;
    }
  } finally {
    closeSync(fd);
  }
}

/** The monitor has finished (its status file is written last) or is gone. */
function hasEnded(root: string, rec: ContainerRecord): boolean {
  return existsSync(statusFilePath(root, rec.id)) || !isLive(rec);
}

function inWindow(cmd: LogsCommand, m: LogMessage): boolean {
  if (cmd.since !== undefined && m.timeNs < cmd.since) return false;
  if (cmd.until !== undefined && m.timeNs > cmd.until) return false;
  return true;
}

function tail(messages: LogMessage[], n: number | undefined): LogMessage[] {
  if (n === undefined) return messages;
  return n === 0 ? [] : messages.slice(-n);
}

/** Consecutive messages of one stream go out in one write. */
function print(cmd: LogsCommand, messages: readonly LogMessage[]): void {
  let stream: LogMessage['stream'] | undefined;
  let text = '';
  const flush = () => {
    if (text !== '') (stream === 'stderr' ? process.stderr : process.stdout).write(text);
    text = '';
  };
  for (const m of messages) {
    if (m.stream !== stream) flush();
    stream = m.stream;
    text += cmd.timestamps ? `${m.time} ${m.text}` : m.text;
  }
  flush();
}
