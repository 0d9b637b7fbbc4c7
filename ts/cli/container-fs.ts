// husk diff, commit, export and cp: a container's files, read (or, for cp, written) through
// its writable layer on disk and its image's layers (runtime/container-layer.ts). A running
// container is frozen while husk copies into it or commits it (as docker pauses it), so its
// processes cannot move a directory under husk's feet.
import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ContainerFsCommand } from './args-container-fs.js';
import { HuskError, escapeControls } from '../errors.js';
import { cgroupHost } from '../cgroup/host.js';
import { findContainer, statusOfRecord, sweep } from '../runtime/records.js';
import { freezeCgroups } from '../runtime/control.js';
import { openContainerLayer } from '../runtime/container-layer.js';
import type { ContainerRecord } from '../runtime/state.js';

/** Runs `fn` with the container frozen when it is running (thawed after, whatever happens). */
async function frozen<T>(rec: ContainerRecord, what: string, fn: () => Promise<T>): Promise<T> {
  const host = await cgroupHost();
  if (statusOfRecord(rec, host) !== 'running' || !rec.cgroups?.length) return fn();
  const label = rec.name ?? rec.id.slice(0, 12);
  await freezeCgroups(host.hierarchies, rec.cgroups, true, `${what}: freeze container ${label}`);
  try {
    return await fn();
  } finally {
    await freezeCgroups(host.hierarchies, rec.cgroups, false, `${what}: thaw container ${label}`);
  }
}

/** The file `-o` names, or stdout, which must not be a terminal (docker's rule). */
function output(path: string | undefined, what: string): Writable {
  if (path !== undefined) {
    try {
      closeSync(openSync(path, 'w', 0o644));
    } catch (err) {
      throw new HuskError('invalid-value', `cannot write ${what} to ${path}: ${(err as NodeJS.ErrnoException).code}`);
    }
    return createWriteStream(path);
  }
  if (process.stdout.isTTY) throw new HuskError('usage', `cowardly refusing to write ${what} to a terminal`, { hint: 'Use -o FILE or redirect stdout.' });
  return process.stdout;
}

export async function containerFsCommand(cmd: ContainerFsCommand): Promise<number> {
  const records = await sweep(cmd.global.root, cgroupHost);
  switch (cmd.name) {
    case 'diff': {
      const c = await openContainerLayer(findContainer(records, cmd.target), 'diff');
      const { diffUpper } = await import('../runtime/container-files.js');
      const changes = await diffUpper(c);
      process.stdout.write(changes.map((ch) => `${ch.kind} ${escapeControls(ch.path)}\n`).join(''));
      return 0;
    }
    case 'export': {
      const c = await openContainerLayer(findContainer(records, cmd.target), 'export');
      const { exportTree } = await import('../runtime/container-files.js');
      await exportTree(c.tree, output(cmd.output, 'the container\'s files'));
      return 0;
    }
    case 'cp': {
      const ref = cmd.from.container ?? cmd.to.container!;
      const rec = findContainer(records, ref);
      const c = await openContainerLayer(rec, 'cp');
      const files = await import('../runtime/container-files.js');
      const skipped =
        cmd.from.container !== undefined
          ? await files.copyFromContainer(c, cmd.from.path, cmd.to.path, cmd.followLink)
          : await frozen(rec, 'cp', () => files.copyToContainer(c, cmd.from.path, cmd.to.path, cmd.followLink));
      for (const s of skipped) process.stderr.write(`husk: cp: skipped ${escapeControls(s)}: not a file, directory or symbolic link\n`);
      return 0;
    }
    case 'commit': {
      const rec = findContainer(records, cmd.target);
      const c = await openContainerLayer(rec, 'commit');
      const { commitContainer } = await import('../image/commit.js');
      const image = await frozen(rec, 'commit', () => commitContainer(c, { ref: cmd.ref, message: cmd.message, author: cmd.author }));
      process.stdout.write(`${image.id}\n`);
      return 0;
    }
  }
}
