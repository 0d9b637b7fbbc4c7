// Where networks live under --root: `<root>/networks/NAME.json` (the record) and
// `<root>/networks/NAME.leases/` (one file per address in use: ./leases.ts).
import { join } from 'node:path';

export function networksDir(root: string): string {
  return join(root, 'networks');
}

export function networkFile(root: string, name: string): string {
  return join(networksDir(root), `${name}.json`);
}

/** The files bound over a networked container's /etc/hosts, hostname and resolv.conf. */
export function etcDir(root: string, id: string): string {
  return join(root, 'net-files', id);
}
