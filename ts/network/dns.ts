// The name responder of a user-defined network (docs/networks.md "Names"): husk-dns, a small
// static program built with the launcher (launcher-zig/dns_main.zig), listening on the
// network's gateway. Its records, `<root>/networks/NAME.dns`, are the lines the core wrote for
// each live container (ts/network/leases.ts refreshRecords); it is started here when a
// container joins and none serves the network, and stops by itself once the records file is
// gone (the network's last container ended). Its pidfile, `dns/NAME.pid`, is its own: it
// serves as nobody (dns_main.zig drop_privileges), in a directory given to nobody.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { HuskError } from '../errors.js';
import { notBuilt, packagePath } from '../runtime/paths.js';
import { processStart } from '../runtime/state.js';
import { networksDir } from './paths.js';

const DNS_BIN = 'zig-out/bin/husk-dns';
/** husk-dns's exit status when another responder already holds the address. */
const ALREADY_SERVED = 3;

export function recordsFile(root: string, network: string): string {
  return `${networksDir(root)}/${network}.dns`;
}

/** Where responders write their pidfiles: a directory of nobody's, the user husk-dns serves as. */
export function responderDir(root: string): string {
  return `${networksDir(root)}/dns`;
}

export function responderPidFile(root: string, network: string): string {
  return `${responderDir(root)}/${network}.pid`;
}

/** husk-dns drops to nobody once bound (launcher-zig/dns_main.zig). */
const NOBODY = 65534;

/**
 * What a responder serving as nobody needs: the records readable (the networks directory
 * 0755: its files are 0600 but the records, 0644; leases and ports stay in 0700 directories)
 * and a directory of its own for its pidfile.
 */
function prepareResponderDirs(root: string): void {
  const dir = responderDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(networksDir(root), 0o755);
  if (process.getuid?.() === 0) chownSync(dir, NOBODY, NOBODY);
}

/** The pid of the responder serving `network`, when one lives. */
export function responderPid(root: string, network: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(responderPidFile(root, network), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || processStart(pid) === undefined) return undefined;
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'husk-dns\n' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the network's responder unless one serves it. The records are written first: a
 * responder that is stopping looks at them once more after letting the address go, so either
 * it serves on or this one can bind. Returns once the address is bound.
 */
export function ensureResponder(root: string, network: string, dns: { listen: string; upstreams: readonly string[] }): void {
  if (responderPid(root, network) !== undefined) return;
  const bin = packagePath(DNS_BIN);
  if (!existsSync(bin)) throw notBuilt(DNS_BIN);
  prepareResponderDirs(root);
  const args = ['--listen', dns.listen, '--records', recordsFile(root, network), '--pidfile', responderPidFile(root, network)];
  for (const u of dns.upstreams) args.push('--upstream', u);
  const r = spawnSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) throw new HuskError('host', `network ${network}: cannot start its name responder: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status === 0 || r.status === ALREADY_SERVED) return;
  const why = (r.stderr ?? '').trim().split('\n')[0] || `exit status ${r.status ?? r.signal}`;
  throw new HuskError('host', `network ${network}: cannot start its name responder: ${why.replace(/^husk-dns: /, '')}`);
}
