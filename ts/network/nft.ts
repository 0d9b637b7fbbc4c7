// `nft -f -` with a script the core wrote (assembly/net/nft.ts): at network create and rm,
// and when a container publishes ports. Only husk's own table, `inet husk`, is named.
import { spawnSync } from 'node:child_process';
import { HuskError } from '../errors.js';

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
