// The host's device nodes for config.json's linux.devices: husk-runc binds the host's node of
// each entry's type and number into the rootfs (the core decides: assembly/plan/oci.ts). A node
// is looked for where udev links it (/dev/char/MAJ:MIN, /dev/block/MAJ:MIN), then at the
// entry's own path; it counts only if it is a device of that type and number.
import { statSync } from 'node:fs';
import type { HostDevice } from '../core/oci-plan.js';

/** Linux's dev_t split (glibc's major/minor). */
export function majorMinor(rdev: number): [number, number] {
  const r = BigInt(rdev);
  const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
  const minor = Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
  return [major, minor];
}

export function hostDevice(d: { path: string; type: string; major?: number; minor?: number }): HostDevice | undefined {
  if (d.major === undefined || d.minor === undefined) return undefined;
  const block = d.type === 'b';
  const candidates = [`/dev/${block ? 'block' : 'char'}/${d.major}:${d.minor}`, d.path];
  for (const path of candidates) {
    let st;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (block ? !st.isBlockDevice() : !st.isCharacterDevice()) continue;
    const [major, minor] = majorMinor(st.rdev);
    if (major === d.major && minor === d.minor) return { path, mode: st.mode, uid: st.uid, gid: st.gid };
  }
  return undefined;
}
