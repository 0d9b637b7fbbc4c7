// networkPlan: what a network is (bridge, subnet, gateway), its nftables elements and the
// control plan that makes or removes its bridge (docs/core-abi.md "Networks";
// assembly/net/network.ts decides, from the facts sent here).
import { FieldReader, FrameWriter, readFrameAt } from '../protocol/frames.js';
import { CoreError, RequestWriter, netFrames } from './build-plan.js';
import type { NetAttach } from './build-plan.js';
import { call } from './wasm.js';

export const NETWORK_REQUEST = { CREATE: 0x0340, TAKEN: 0x0341, HOST_ROUTE: 0x0342, REMOVE: 0x0343, IPV6: 0x0358, TAKEN6: 0x0359, HOST_ROUTE6: 0x035a } as const;
const ANSWER = { NETWORK: 0x0350, NFT: 0x0351, NETWORK6: 0x035b } as const;
const T_HELLO = 0x0001;

export interface NetworkFacts {
  /** Networks that exist (their names, bridges and subnets are taken). */
  taken: readonly { name: string; bridge: string; subnet: string; subnet6?: string }[];
  /** The host's routes, `A.B.C.D/N` (a subnet one of them covers is in use). */
  routes: readonly string[];
  /** The host's IPv6 routes, `ADDR/N` (/proc/net/ipv6_route). */
  routes6?: readonly string[];
}

export interface NetworkChoice {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  isDefault: boolean;
  /** A dual-stack network's IPv6 subnet and gateway. */
  subnet6?: string;
  gateway6?: string;
}

export interface NetworkAnswer {
  network?: NetworkChoice;
  /** What `nft -f -` is given. */
  nft: string;
  /** The control plan (NET_SYSCTL, NET_BRIDGE / NET_LINK_DEL). */
  plan: Uint8Array;
}

export type NetworkRequest =
  | { create: { name: string; subnet?: string; gateway?: string; internal?: boolean; isDefault?: boolean; ipv6?: { enable: boolean; subnet?: string; gateway?: string } }; facts: NetworkFacts }
  | { remove: { name: string; bridge: string; subnet: string; subnet6?: string; internal?: boolean; last: boolean } };

export function encodeNetworkRequest(req: NetworkRequest): Uint8Array {
  const w = new FrameWriter();
  if ('create' in req) {
    const c = req.create;
    w.begin(NETWORK_REQUEST.CREATE).str(c.name).str(c.subnet ?? '').str(c.gateway ?? '').u64((c.internal ? 1 : 0) | (c.isDefault ? 2 : 0)).end();
    for (const t of req.facts.taken) w.begin(NETWORK_REQUEST.TAKEN).str(t.name).str(t.bridge).str(t.subnet).end();
    for (const r of req.facts.routes) w.begin(NETWORK_REQUEST.HOST_ROUTE).str(r).end();
    const v6 = c.ipv6;
    if (v6 !== undefined) w.begin(NETWORK_REQUEST.IPV6).str(v6.subnet ?? '').str(v6.gateway ?? '').u64(v6.enable ? 1 : 0).end();
    for (const t of req.facts.taken) if (t.subnet6) w.begin(NETWORK_REQUEST.TAKEN6).str(t.name).str(t.subnet6).end();
    if (v6?.enable) for (const r of req.facts.routes6 ?? []) w.begin(NETWORK_REQUEST.HOST_ROUTE6).str(r).end();
  } else {
    const r = req.remove;
    w.begin(NETWORK_REQUEST.REMOVE).str(r.name).str(r.bridge).str(r.subnet).u64((r.internal ? 1 : 0) | (r.last ? 4 : 0)).end();
    if (r.subnet6) w.begin(NETWORK_REQUEST.IPV6).str(r.subnet6).str('').u64(0).end();
  }
  return w.view().slice();
}

/** The core's answer; a refused value (a taken name, an overlapping subnet) is a CoreError, status 2. */
export function networkPlan(req: NetworkRequest): NetworkAnswer {
  const answer = call('networkPlan', encodeNetworkRequest(req));
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  const bytes = answer.bytes.slice();
  const out: NetworkAnswer = { nft: '', plan: bytes };
  let at = 0;
  for (;;) {
    const f = readFrameAt(bytes, at);
    if (f === null || f.frame.type === T_HELLO) break;
    const r = new FieldReader(f.frame.payload);
    if (f.frame.type === ANSWER.NETWORK) {
      const network = { name: r.str(), bridge: r.str(), subnet: r.str(), gateway: r.str() };
      const flags = r.u64();
      out.network = { ...network, internal: (flags & 1n) !== 0n, isDefault: (flags & 2n) !== 0n };
    } else if (f.frame.type === ANSWER.NETWORK6 && out.network) {
      out.network.subnet6 = r.str();
      out.network.gateway6 = r.str();
    } else if (f.frame.type === ANSWER.NFT) {
      out.nft = r.str();
    }
    at = f.next;
  }
  out.plan = bytes.subarray(at);
  return out;
}

/** A running container joining one more network (`husk network connect`; docs/core-abi.md "networkConnect"). */
export interface ConnectRequest {
  attach: NetAttach;
  id: string;
  pid: number;
  startTime: string;
  /** The container's links (eth0, …) and the networks it is on. */
  links: readonly string[];
  networks: readonly string[];
}

export interface ConnectAnswer {
  chosen: { network: string; address: string; prefix: number; mac: string; veth: string; gateway: string; peer: string };
  dns?: { listen: string; upstreams: string[]; record: string };
  /** The control plan: NET_CONNECT (or NET_LINK_DEL for a disconnect). */
  plan: Uint8Array;
}

const CONNECT = { CONNECT: 0x034a, DISCONNECT: 0x034b } as const;
const CONNECT_ANSWER = { CHOSEN: 0x0352, DNS: 0x0355, PEER: 0x0356 } as const;

function connectCall(request: Uint8Array): ConnectAnswer {
  const answer = call('networkConnect', request);
  if (answer.status !== 0) throw new CoreError(answer.status, new TextDecoder().decode(answer.bytes));
  const bytes = answer.bytes.slice();
  const out: Partial<ConnectAnswer> & { chosen?: ConnectAnswer['chosen'] } = {};
  let at = 0;
  for (;;) {
    const f = readFrameAt(bytes, at);
    if (f === null || f.frame.type === T_HELLO) break;
    const r = new FieldReader(f.frame.payload);
    if (f.frame.type === CONNECT_ANSWER.CHOSEN) out.chosen = { network: r.str(), address: r.str(), prefix: Number(r.u64()), mac: r.str(), veth: r.str(), gateway: r.str(), peer: '' };
    else if (f.frame.type === CONNECT_ANSWER.PEER && out.chosen) out.chosen.peer = r.str();
    else if (f.frame.type === CONNECT_ANSWER.DNS) out.dns = { listen: r.str(), upstreams: r.strs(), record: r.str() };
    at = f.next;
  }
  return { chosen: out.chosen!, dns: out.dns, plan: bytes.subarray(at) };
}

export function networkConnect(req: ConnectRequest): ConnectAnswer {
  const w = new RequestWriter();
  netFrames(w, req.attach);
  w.begin('connect', CONNECT.CONNECT).str(req.id).u64(BigInt(req.pid)).u64(BigInt(req.startTime)).strs(req.links, 64).strs(req.networks).end();
  return connectCall(w.view().slice());
}

/** The control plan that takes a connected container's link away (`husk network disconnect`). */
export function networkDisconnectPlan(veth: string): Uint8Array {
  const w = new RequestWriter();
  w.begin('disconnect', CONNECT.DISCONNECT).str(veth, 64).end();
  return connectCall(w.view().slice()).plan;
}
