// Facts about this host that the policy core needs and cannot read itself.
import { lstatSync, readlinkSync } from 'node:fs';

export interface HostDir {
  name: string;
  kind: 'dir' | 'symlink';
  target: string;
}

/** The top-level entries the built-in `host` image shows, as this host has them. */
export const HOST_IMAGE_ENTRIES = ['usr', 'etc', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

let cached: HostDir[] | undefined;

export function hostImageDirs(): HostDir[] {
  if (cached) return cached;
  const out: HostDir[] = [];
  for (const name of HOST_IMAGE_ENTRIES) {
    let st;
    try {
      st = lstatSync(`/${name}`);
    } catch {
      continue; // absent on this host: the image simply lacks it
    }
    if (st.isSymbolicLink()) out.push({ name, kind: 'symlink', target: readlinkSync(`/${name}`) });
    else if (st.isDirectory()) out.push({ name, kind: 'dir', target: '' });
  }
  cached = out;
  return out;
}
