// Names on a user-defined network (docs/networks.md "Names"): which names a container answers
// to (its --name, its short id, its --network-alias), the line of the network's records that
// husk-dns serves them from, the resolvers it forwards other names to, and the container's
// /etc/resolv.conf (the responder on the gateway, or the host's resolvers on the default
// network, which has no names).

import { parseIp } from "./ip";

/** glibc reads at most three nameservers; husk-dns forwards to as many. */
const UPSTREAMS_MAX: i32 = 3;
const NAME_MAX: i32 = 253;
const LABEL_MAX: i32 = 63;

/** Why `name` cannot be a DNS name here, or null: labels of [a-zA-Z0-9_-], 1–63 bytes, 253 in all. */
export function checkDnsName(name: string): string | null {
  if (name.length == 0) return "empty";
  if (name.length > NAME_MAX) return "longer than 253 bytes";
  let label = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c == 0x2e) {
      if (label == 0) return "an empty label";
      label = 0;
      continue;
    }
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2d;
    if (!ok) return "only letters, digits, '-', '_' and '.' between labels are allowed";
    label++;
    if (label > LABEL_MAX) return "a label longer than 63 bytes";
  }
  if (label == 0) return "an empty label";
  return null;
}

function lower(s: string): string {
  return s.toLowerCase();
}

/**
 * `ADDR name shortid alias... [+ADDR6] #ID %LINK`: the container's line in its network's records
 * (lowercase, each name once). A --name that is no DNS name (docker allows none such) is left
 * out. ID (the first 12 characters of its id) says which container the line is: a container
 * asks its first network's responder, which also answers it from the records of every other
 * network whose records hold its ID (`network connect`). LINK is the host end of its veth on
 * this network: husk-dns serves the line only while that link exists, so a container that
 * ended is not found even before a husk command removes its line.
 */
export function dnsRecordLine(address: string, address6: string, name: string, id: string, aliases: string[], forwarders: string[], link: string): string {
  const names: string[] = [];
  if (name.length > 0 && checkDnsName(name) === null) names.push(lower(name));
  names.push(lower(id.slice(0, 12)));
  for (let i = 0; i < aliases.length; i++) {
    const a = lower(aliases[i]);
    if (!names.includes(a)) names.push(a);
  }
  // `>ADDR IP...`: this container's --dns, where husk-dns forwards its queries instead of the network's upstreams.
  const forward = forwarders.length > 0 ? ">" + address + " " + forwarders.slice(0, UPSTREAMS_MAX).join(" ") + "\n" : "";
  // `+ADDR6`: its IPv6 address on a dual-stack network, answered for AAAA (no name holds a `+`).
  const six = address6.length > 0 ? " +" + address6 : "";
  return address + " " + names.join(" ") + six + " #" + lower(id.slice(0, 12)) + " %" + link + "\n" + forward;
}

/**
 * The host's IPv4 resolvers husk-dns forwards to. Loopback ones stay: husk-dns runs in the
 * host's network namespace, where they answer.
 */
export function upstreamsOf(nameservers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < nameservers.length && out.length < UPSTREAMS_MAX; i++) {
    if (parseIp(nameservers[i]) >= 0 && !out.includes(nameservers[i])) out.push(nameservers[i]);
  }
  return out;
}

/**
 * The container's /etc/resolv.conf: the host's search domains, then the network's responder
 * (`server`, its gateway) or, without one, the host's resolvers minus loopback ones (the
 * container's namespace cannot reach the host's loopback).
 */
export function resolvConf(search: string[], nameservers: string[], server: string): string {
  let s = "";
  for (let i = 0; i < search.length; i++) s += (i == 0 ? "search " : " ") + search[i] + (i == search.length - 1 ? "\n" : "");
  if (server.length > 0) return s + "nameserver " + server + "\n";
  for (let i = 0; i < nameservers.length; i++) if (!nameservers[i].startsWith("127.")) s += "nameserver " + nameservers[i] + "\n";
  return s;
}
