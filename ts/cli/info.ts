// husk info: where this caller's state and images are, its default user namespace, this host's cgroup layout, controller by controller, and what husk can enforce.
import { enforcement } from '../cgroup/enforce.js';
import { hostCgroupFacts } from '../cgroup/detect.js';
import { versionText } from './version.js';
import type { GlobalFlags } from './args.js';
import { places, placesLines } from './info-places.js';

export async function infoCommand(format: 'text' | 'json', global?: GlobalFlags): Promise<number> {
  const facts = hostCgroupFacts();
  const enforce = enforcement(facts);
  const where = places(global);
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ version: versionText().trim(), places: where, cgroups: facts, enforcement: enforce }, null, 2) + '\n');
    return 0;
  }
  const lines = [versionText().trim(), ...placesLines(where), `cgroup layout: ${facts.layout}`, 'hierarchies:'];
  for (const h of facts.hierarchies) lines.push(`  v${h.version}  ${h.mountpoint.padEnd(28)} ${h.controllers.join(',') || '(no controllers)'}`);
  lines.push('resource flags:', `  ${'flag'.padEnd(22)}${'controller'.padEnd(12)}${'rootful'.padEnd(9)}rootless`);
  for (const e of enforce) {
    const ctl = e.version ? `${e.controller} v${e.version}` : e.controller;
    lines.push(`  ${e.flag.padEnd(22)}${ctl.padEnd(12)}${(e.rootful ? 'yes' : 'no').padEnd(9)}${e.rootless ? 'yes (delegated v2)' : `no${e.why ? `: ${e.why}` : ''}`}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
