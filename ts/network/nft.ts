// nftables from ts/: `nft -f -` with a script the core wrote (assembly/net/nft.ts) when a
// network is made or removed (the table, its chains, the network's elements), and the core's
// unpublish control plan for the ports of a container whose monitor was killed before it
// could delete them itself. A container's own start and end speak nf_tables netlink from the
// launcher (NFT_ELEMENTS) and run no process here. Only husk's own table, `inet husk`.
import { spawnSync } from 'node:child_process';
import { HuskError } from '../errors.js';
import { launcherPath } from '../runtime/paths.js';

export function runNft(script: string, opts: { quiet?: boolean; what?: string } = {}): void {
  const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
  if (r.error) {
    if (opts.quiet) return;
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new HuskError('host', `cannot run nft: ${code ?? r.error.message}`, {
      hint: code === 'ENOENT' ? 'husk networks need nftables: apt-get install nftables.' : undefined,
    });
  }
  if (r.status !== 0 && !opts.quiet) {
    const first = (r.stderr ?? '').split('\n').find((l) => l.includes('Error')) ?? (r.stderr ?? '').trim();
    throw new HuskError('host', `${opts.what ?? 'nft'}: ${first.replace(/^\/dev\/stdin:\S+ /, '')}`);
  }
}

/**
 * Runs the core's unpublish plan (NFT_DELETE ops, hex as the summary gave it) through a
 * one-shot launcher; elements already gone are no failure. Best effort: a port left
 * published points at an address no container holds, and the next start that wants the
 * port fails by name instead of silently reaching nothing.
 */
export function runUnpublish(planHex: string): void {
  spawnSync(launcherPath(), [], { input: Buffer.from(planHex, 'hex'), stdio: ['pipe', 'ignore', 'ignore'] });
}
