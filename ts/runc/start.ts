// `husk-runc start`: one byte into the container's exec FIFO lets its init go on to EXEC
// (docs/protocol.md "Left waiting on a FIFO"). The init holds the FIFO's only reader, so an
// init that died makes the open fail (ENXIO) instead of waiting forever.
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { RuncError } from './args.js';
import { fifoPath, mustRead, ociState, statusOf } from './state.js';

export async function startContainer(root: string, id: string): Promise<void> {
  const st = mustRead(root, id);
  const status = statusOf(root, st);
  if (status === 'paused') throw new RuncError('cannot start a container in the paused state');
  if (status === 'running') throw new RuncError('cannot start an already running container');
  if (status === 'stopped') throw new RuncError('cannot start a container that has stopped');
  if (status === 'creating') throw new RuncError(`cannot start container ${id}: it is still being created`);
  const path = fifoPath(root, id);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') throw new RuncError('cannot start a container that has stopped');
    if (code === 'ENOENT') throw new RuncError('cannot start an already running container');
    throw err;
  }
  try {
    writeSync(fd, Buffer.from('0'));
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  const { runHooks } = await import('./hooks.js');
  // The state poststart hooks read is the started container's (running, its pid), even when
  // its process has already ended by the time they run (runtime-tools' hooks_stdin).
  runHooks(st.hooks, 'poststart', { ...ociState(root, st), status: 'running', pid: st.pid });
}
