// The launcher's binary is out of every container's reach (docs/security.md): the attack of
// CVE-2019-5736, played for real. A container whose command is a script starting
// `#!/proc/self/exe` makes the kernel run the launcher binary as the container process; a
// second container that sees it (--pid host) keeps a handle on its /proc/PID/exe and, once
// no launcher runs, opens that handle for writing. The launcher must have run from a
// sealed copy, so the write fails and no binary on disk changes.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, copyFileSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { huskBin, launcherBin, suiteDir, suiteRootfs } from './helpers.js';
import { useLeakCheck } from './leak-check.js';

const { root } = useLeakCheck();
const rootfs = suiteRootfs();
const scratch = suiteDir('self-protect');

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// Waits for the victim (the launcher binary run as a container process, whose command
// line is the kernel's: the interpreter, then the script), keeps its exe open on fd 3,
// then, once told the victim has ended, tries to write through that handle.
const watcher = `
echo watching
while :; do
  for p in /proc/[0-9]*; do
    case "$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)" in
      "/proc/self/exe /husk-evil"*) exec 3< $p/exe && echo caught && break 2 ;;
    esac
  done
done
read go
if echo x >> /proc/self/fd/3; then echo wrote; else echo refused; fi
`;

function start(args: string[], stdio: ('pipe' | 'ignore' | number)[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, ['--', huskBin, '--root', root, ...args], { stdio, env });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
  const sees = async (text: string) => {
    const deadline = Date.now() + 30_000;
    while (!stdout.includes(text)) {
      if (Date.now() > deadline) throw new Error(`no "${text}" in ${JSON.stringify(stdout)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, done, sees, stdout: () => stdout };
}

/** A FIFO that is full: a process given `writer` as stderr blocks on its first message
 * until `drain` empties it. That keeps the victim alive long enough to be caught. */
function fullFifo() {
  const path = join(scratch, 'stderr');
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const reader = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const filled = (size: number) => {
    try {
      writeSync(reader, Buffer.alloc(size, 0x2e));
      return true;
    } catch {
      return false; // EAGAIN: full
    }
  };
  while (filled(4096));
  while (filled(1));
  const writer = openSync(path, constants.O_WRONLY); // blocking: a second open file description
  const drain = () => {
    const buffer = Buffer.alloc(65536);
    try {
      while (readSync(reader, buffer) > 0);
    } catch {
      // EAGAIN: empty for now
    }
  };
  return { reader, writer, drain };
}

describe('the launcher binary out of a container’s reach', () => {
  it('refuses a write through a handle on /proc/PID/exe of a `#!/proc/self/exe` container process', async () => {
    writeFileSync(join(rootfs, 'husk-evil'), '#!/proc/self/exe\n');
    chmodSync(join(rootfs, 'husk-evil'), 0o755);
    writeFileSync(join(rootfs, 'watch.sh'), watcher);
    // The victim runs a copy of the launcher: if the protection fails, only the copy is hurt.
    const copy = join(scratch, 'husk-launcher');
    copyFileSync(launcherBin, copy);
    const launcherBefore = sha256(launcherBin);
    const copyBefore = sha256(copy);

    const watch = start(['run', '--network', 'none', '--pid', 'host', '--rootfs', rootfs, 'sh', '/watch.sh'], ['pipe', 'pipe', 'ignore']);
    await watch.sees('watching');
    const fifo = fullFifo();
    const victim = start(['run', '--network', 'none', '--pid', 'host', '--rootfs', rootfs, '/husk-evil'], ['ignore', 'ignore', fifo.writer], {
      ...process.env,
      HUSK_LAUNCHER: copy,
    });
    closeSync(fifo.writer);
    await watch.sees('caught');
    // Let the victim write its message and end, with its launcher: nothing runs the copy now.
    let ended = false;
    void victim.done.then(() => (ended = true));
    while (!ended) {
      fifo.drain();
      await new Promise((r) => setTimeout(r, 20));
    }
    closeSync(fifo.reader);
    watch.child.stdin!.end('go\n');
    expect(await watch.done).toBe(0);

    expect(watch.stdout()).toContain('refused');
    expect(watch.stdout()).not.toContain('wrote');
    expect(sha256(copy), 'the launcher copy the victim ran').toBe(copyBefore);
    expect(sha256(launcherBin), 'zig-out/bin/husk-launcher').toBe(launcherBefore);
  }, 60_000);
});
