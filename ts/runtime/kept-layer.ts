// The writable layer of a container that outlives its run (`run -d`, `create`), for `host`
// and `--rootfs` images: `<root>/layers/<id>/{upper,work}` on the host instead of the stage
// tmpfs, so `husk start` of the exited container (and `restart`) finds its files. It goes
// with the container's state (`husk rm`). The core puts it in the overlay
// (assembly/plan/keep-layer.ts); this file only makes and removes the directories.
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function keptLayerDir(root: string, id: string): string {
  return join(root, 'layers', id);
}

export function keptLayerPaths(root: string, id: string): { upper: string; work: string } {
  const dir = keptLayerDir(root, id);
  return { upper: join(dir, 'upper'), work: join(dir, 'work') };
}

/**
 * Makes the layer's directories (kept ones stay as they are). `owner`: the host uid and gid of
 * the container's root when it has a user namespace, whose mapped root must write the upper
 * and reach it (`<root>/layers` is 0711 for that; each container's directory is its own).
 */
export function makeKeptLayer(root: string, id: string, owner?: number): void {
  const layers = join(root, 'layers');
  mkdirSync(layers, { recursive: true, mode: 0o711 });
  chmodSync(layers, 0o711);
  const dir = keptLayerDir(root, id);
  const { upper, work } = keptLayerPaths(root, id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(upper, { recursive: true, mode: 0o755 });
  mkdirSync(work, { recursive: true, mode: 0o700 });
  if (owner !== undefined) for (const d of [dir, upper, work]) chownSync(d, owner, owner);
}

export function removeKeptLayer(root: string, id: string): void {
  rmSync(keptLayerDir(root, id), { recursive: true, force: true });
}
