// A stopped container whose address another container took meanwhile gets a new one when it
// starts again, as docker's does (unless its address was typed with --ip: then the start is
// refused by name, restart.ts). Its saved plan holds the old address (NET_ADDR, the MAC made
// from it, its ports' elements, its /etc/hosts line), so the core is asked again: create keeps
// the request's frames without the network, `<state>/replan`, beside the network's facts as
// typed; the same frames with the addresses in use now give the same plan but for the network
// (the core is pure), which replaces the saved one.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlanAnswerWith, encodeWithoutNetwork } from '../core/build-plan.js';
import type { NetAttach, NetChosen, PlanRequest } from '../core/build-plan.js';
import { stateDir } from '../runtime/records.js';
import { tempName } from '../runtime/state.js';
import type { ContainerRecord } from '../runtime/state.js';
import { busyPorts, claimAddress } from './attach.js';
import { usedAddresses } from './leases.js';
import { networkForRun } from './store.js';

interface Saved {
  /** The network's facts at create, as the request had them (`used`: the addresses taken then). */
  net: NetAttach;
  /** encodeWithoutNetwork's frames, base64. */
  frames: string;
}

function replanPath(root: string, id: string): string {
  return join(stateDir(root, id), 'replan');
}

/** At create: what a later start needs to ask the core again (only for a container on a network). */
export function saveReplan(root: string, id: string, request: PlanRequest): void {
  if (request.network === undefined) return;
  const saved: Saved = { net: request.network, frames: Buffer.from(encodeWithoutNetwork(request)).toString('base64') };
  const tmp = join(stateDir(root, id), tempName('replan'));
  writeFileSync(tmp, JSON.stringify(saved), { mode: 0o600 });
  renameSync(tmp, replanPath(root, id));
}

function readReplan(root: string, id: string): Saved | undefined {
  try {
    return JSON.parse(readFileSync(replanPath(root, id), 'utf8')) as Saved;
  } catch {
    return undefined; // made by a husk before this file existed
  }
}

/** Whether the container can be given another address: true, or why not (its --ip; no request kept). */
export function canReplan(root: string, rec: ContainerRecord): true | 'ip' | 'not-kept' {
  const saved = readReplan(root, rec.id);
  if (saved === undefined) return 'not-kept';
  return saved.net.ip === undefined && saved.net.ip6 === undefined ? true : 'ip';
}

/**
 * Asks the core again with the addresses in use now: the lowest free address is leased (and its
 * ports claimed, its /etc files written, its names served: attach.ts claimAddress), the new
 * plan is returned for the caller to save, and the record's network is the new one.
 */
export async function replanAddress(root: string, rec: ContainerRecord): Promise<{ plan: Uint8Array; chosen: NetChosen }> {
  const saved = readReplan(root, rec.id)!;
  const net = await networkForRun(root, saved.net.name);
  // One lease directory holds both families' addresses (an IPv6 one has a colon).
  const leased = usedAddresses(root, net.name);
  const facts: NetAttach = { ...saved.net, bridge: net.bridge, subnet: net.subnet, gateway: net.gateway, internal: net.internal, used: leased.filter((a) => !a.includes(':')) };
  if (saved.net.subnet6 !== undefined) Object.assign(facts, { subnet6: net.subnet6, gateway6: net.gateway6, used6: leased.filter((a) => a.includes(':')) });
  if (saved.net.busyPorts !== undefined) facts.busyPorts = busyPorts(root);
  const frames = Buffer.from(saved.frames, 'base64');
  const answer = claimAddress(root, rec.id, facts, () => buildPlanAnswerWith(frames, facts));
  // A copy: the answer's plan is a view of the core's memory, reused by the next call.
  return { plan: answer.plan.slice(), chosen: answer.summary.net! };
}
