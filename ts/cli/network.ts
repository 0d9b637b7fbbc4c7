// husk network create|ls|inspect|rm|prune, and husk port: what people see of networks
// (ts/network/ does the work; the core decides the subnets, addresses and rules).
import { existsSync } from 'node:fs';
import type { NetworkCommand } from './args-network.js';
import { HuskError } from '../errors.js';
import { ensureRoot } from '../runtime/state.js';
import { readRecords } from '../runtime/records.js';
import { createNetwork, listNetworks, readNetwork, removeNetwork } from '../network/store.js';
import type { NetworkRecord } from '../network/store.js';
import { usedAddresses } from '../network/leases.js';

function inspectJson(root: string, n: NetworkRecord): object {
  const containers: Record<string, object> = {};
  for (const rec of readRecords(root)) {
    const on = [...(rec.network ? [rec.network] : []), ...(rec.networks ?? [])].find((a) => a.name === n.name);
    if (on === undefined || rec.finished !== undefined) continue;
    const v6 = on as { address6?: string; prefix6?: number };
    const six = v6.address6 ? `${v6.address6}/${v6.prefix6}` : '';
    containers[rec.id] = { Name: rec.name ?? rec.id.slice(0, 12), MacAddress: on.mac, IPv4Address: `${on.address}/${on.prefix}`, IPv6Address: six };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.subnet6 !== undefined,
    IPAM: { Driver: 'default', Config: [{ Subnet: n.subnet, Gateway: n.gateway }, ...(n.subnet6 !== undefined ? [{ Subnet: n.subnet6, Gateway: n.gateway6 }] : [])] },
    Internal: n.internal,
    Containers: containers,
    Options: { 'com.docker.network.bridge.name': n.bridge },
  };
}

export async function networkCommand(cmd: NetworkCommand): Promise<number> {
  const root = cmd.global.root;
  if (cmd.name === 'port') return portCommand(root, cmd.container);
  const a = cmd.network;
  switch (a.action) {
    case 'create': {
      ensureRoot(root);
      const rec = await createNetwork(root, a.name, { subnet: a.subnet, gateway: a.gateway, internal: a.internal, ipv6: a.ipv6, subnet6: a.subnet6, gateway6: a.gateway6 });
      process.stdout.write(`${rec.id}\n`);
      return 0;
    }
    case 'ls': {
      const nets = listNetworks(root);
      if (a.quiet) process.stdout.write(nets.map((n) => `${n.id.slice(0, 12)}\n`).join(''));
      else if (a.format === 'json') process.stdout.write(`${JSON.stringify(nets.map((n) => ({ Name: n.name, Id: n.id, Driver: n.driver, Subnet: n.subnet, Gateway: n.gateway, ...(n.subnet6 !== undefined ? { IPv6Subnet: n.subnet6, IPv6Gateway: n.gateway6 } : {}), Bridge: n.bridge, Internal: n.internal, Created: n.created })))}\n`);
      else {
        const rows = [['NETWORK ID', 'NAME', 'DRIVER', 'SUBNET', 'BRIDGE'], ...nets.map((n) => [n.id.slice(0, 12), n.name, n.driver, n.subnet + (n.subnet6 !== undefined ? ` ${n.subnet6}` : ''), n.bridge + (n.internal ? ' (internal)' : '')])];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('')).join('\n') + '\n');
      }
      return 0;
    }
    case 'inspect': {
      const out: object[] = [];
      let missing = 0;
      for (const name of a.names) {
        const n = readNetwork(root, name);
        if (n === undefined) {
          process.stderr.write(`husk: network ${name} not found\n`);
          missing++;
        } else out.push(inspectJson(root, n));
      }
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return missing > 0 ? 1 : 0;
    }
    case 'rm': {
      let failed = 0;
      for (const name of a.names) {
        try {
          await removeNetwork(root, name);
          process.stdout.write(`${name}\n`);
        } catch (err) {
          if (!(err instanceof HuskError)) throw err;
          process.stderr.write(`husk: ${err.message}\n`);
          failed++;
        }
      }
      return failed > 0 ? 1 : 0;
    }
    case 'connect':
    case 'disconnect': {
      if (!existsSync(root)) throw new HuskError('invalid-value', `no such container: ${a.container}`);
      const { connectContainer, disconnectContainer } = await import('../network/connect.js');
      if (a.action === 'connect') await connectContainer(root, a.network, a.container, { ip: a.ip, aliases: a.aliases });
      else await disconnectContainer(root, a.network, a.container);
      return 0;
    }
    case 'prune': {
      for (const n of listNetworks(root)) {
        if (usedAddresses(root, n.name).length > 0) continue;
        await removeNetwork(root, n.name);
        process.stdout.write(`${n.name}\n`);
      }
      return 0;
    }
  }
}

/** husk port CONTAINER: its published ports (a bridge's or pasta's), docker's lines (`80/tcp -> 0.0.0.0:8080`). */
async function portCommand(root: string, ref: string): Promise<number> {
  const { findContainer } = await import('../runtime/records.js');
  if (!existsSync(root)) throw new HuskError('invalid-value', `no such container: ${ref}`);
  const rec = findContainer(readRecords(root), ref);
  // A bridge's ports, or pasta's for a user's container (the same lines).
  for (const p of [...(rec.network?.ports ?? []), ...(rec.usermode?.ports ?? [])]) process.stdout.write(`${p.port}/${p.proto} -> ${p.hostIp || '0.0.0.0'}:${p.hostPort}\n`);
  return 0;
}
