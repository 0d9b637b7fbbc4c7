// Facts about this host that the policy core needs and cannot read itself.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';

export interface HostDir {
  name: string;
  kind: 'dir' | 'symlink';
  target: string;
}

let cached: HostDir[] | undefined;

/**
 * The host's top-level directories and symlinks (with their targets), read once: the core
 * picks the `host` image's directories from them (assembly/plan/request.ts HOST_IMAGE_ENTRIES).
 */
export function hostRootEntries(root = '/'): HostDir[] {
  if (cached && root === '/') return cached;
  const out: HostDir[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const path = `${root === '/' ? '' : root}/${e.name}`;
    let symlink = e.isSymbolicLink();
    let dir = e.isDirectory();
    if (!symlink && !dir && !e.isFile()) {
      // d_type unknown on some filesystems: ask lstat.
      try {
        const st = lstatSync(path);
        symlink = st.isSymbolicLink();
        dir = st.isDirectory();
      } catch {
        continue; // gone meanwhile
      }
    }
    if (symlink) {
      try {
        out.push({ name: e.name, kind: 'symlink', target: readlinkSync(path) });
      } catch {
        // gone meanwhile
      }
    } else if (dir) out.push({ name: e.name, kind: 'dir', target: '' });
  }
  if (root === '/') cached = out;
  return out;
}
