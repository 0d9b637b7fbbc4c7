// Where networks live under --root: `<root>/networks/NAME.json` (the record) and
// `<root>/networks/NAME.leases/` (one file per address in use: ./leases.ts).
//
// Paths under ts/network/ are built with template strings, not path.join: a networked run
// called join/resolve ~100 times, enough for V8 to mark path's normalizeString for TurboFan,
// and Node then waited 5-6 ms at exit for that compile to finish (docs/bench.md, session 8).
// `--root` is used as given (a trailing slash makes a harmless `//`).

export function networksDir(root: string): string {
  return `${root}/networks`;
}

export function networkFile(root: string, name: string): string {
  return `${root}/networks/${name}.json`;
}

/** The files bound over a networked container's /etc/hosts, hostname and resolv.conf. */
export function etcDir(root: string, id: string): string {
  return `${root}/net-files/${id}`;
}
