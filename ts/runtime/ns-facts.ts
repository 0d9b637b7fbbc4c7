// Namespaces as the kernel names them: `/proc/PID/ns/TYPE` is a link to `TYPE:[INODE]`, the
// same text `ls -l /proc/PID/ns`, lsns and readlink show. Facts only: which namespaces a
// process has, and which of them are not husk's own (what `exec` and `enter` must enter).
import { readlinkSync } from 'node:fs';
import { CLONE_FLAG } from '../protocol/ops.js';

/** The namespace types, as /proc/PID/ns names them, with their CLONE_NEW* bit. */
export const NS_TYPES: readonly (readonly [string, bigint])[] = [
  ['user', CLONE_FLAG.NEWUSER],
  ['mnt', CLONE_FLAG.NEWNS],
  ['uts', CLONE_FLAG.NEWUTS],
  ['ipc', CLONE_FLAG.NEWIPC],
  ['pid', CLONE_FLAG.NEWPID],
  ['net', CLONE_FLAG.NEWNET],
  ['cgroup', CLONE_FLAG.NEWCGROUP],
  ['time', CLONE_FLAG.NEWTIME],
];

export const NS_BIT: ReadonlyMap<string, bigint> = new Map(NS_TYPES);

/** `net` → its inode, for a process (or 'self'); a type the kernel lacks is left out. */
export function namespaceInodes(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name] of NS_TYPES) {
    try {
      const m = /^[a-z]+:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${name}`));
      if (m) out.set(name, Number(m[1]));
    } catch {
      // gone, or a namespace type this kernel does not have
    }
  }
  return out;
}

/** CLONE_NEW* bits of `pid`'s namespaces that differ from husk's own. */
export function differingNamespaces(pid: number): bigint {
  const mine = namespaceInodes('self');
  const theirs = namespaceInodes(pid);
  let bits = 0n;
  for (const [name, bit] of NS_TYPES) {
    const t = theirs.get(name);
    if (t !== undefined && t !== mine.get(name)) bits |= bit;
  }
  return bits;
}
