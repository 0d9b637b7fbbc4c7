// The host's device nodes under /dev, for `husk run --privileged` (buildPlan item 0x0337): a
// fact the core decides on (assembly/plan/host-devices.ts says which go in, as docker's).
// Symlinks are not followed (the by-id links name nodes listed anyway); sockets, FIFOs and
// files are not devices.
import { lstatSync, readdirSync } from 'node:fs';

export interface HostDevNode {
  /** Below /dev: `loop0`, `input/event0`. */
  path: string;
  kind: 'b' | 'c';
}

export function hostDevNodes(root = '/dev'): HostDevNode[] {
  const out: HostDevNode[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(rel === '' ? root : `${root}/${rel}`);
    } catch {
      return; // a directory gone or unreadable while listed (udev at work): its nodes are not there either
    }
    for (const name of names.sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      let st;
      try {
        st = lstatSync(`${root}/${path}`);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path);
      else if (st.isCharacterDevice()) out.push({ path, kind: 'c' });
      else if (st.isBlockDevice()) out.push({ path, kind: 'b' });
    }
  };
  walk('');
  return out;
}
