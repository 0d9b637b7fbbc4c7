// Registry authentication, as distribution's token spec and docker do it: the registry answers
// 401 with a WWW-Authenticate challenge; Basic sends the login's credentials with every
// request, Bearer trades them (or nothing, for anonymous pulls) at the challenge's realm for a
// token scoped to one repository and its actions.
import { HuskError } from '../../errors.js';
import type { Credentials } from './credentials.js';
import { HttpClient, readBody, showUrl } from './http.js';

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

const MAX_TOKEN_RESPONSE = 1 << 20;

/** The challenges of a WWW-Authenticate header (RFC 7235: scheme, then key=value or key="value" pairs). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < text.length && chars.test(text[i])) i++;
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const start = i;
    while (i < text.length && /[\w.~+/-]/.test(text[i])) i++;
    const word = text.slice(start, i);
    if (word === '') {
      i++; // a stray character: skip it
      continue;
    }
    skip(/\s/);
    if (text[i] !== '=') {
      const scheme = word.toLowerCase();
      current = scheme === 'basic' || scheme === 'bearer' ? { scheme, params: {} } : undefined;
      if (current) out.push(current);
      continue;
    }
    i++;
    skip(/\s/);
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      i++;
    } else {
      const vstart = i;
      while (i < text.length && !/[\s,]/.test(text[i])) i++;
      value = text.slice(vstart, i);
    }
    if (current) current.params[word.toLowerCase()] = value;
  }
  return out;
}

/** The first challenge husk can answer (Bearer preferred, as docker does). */
export function pickChallenge(header: string | string[] | undefined): Challenge | undefined {
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}

export function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

/** A bearer token from the challenge's realm for `scopes` (none: just check the credentials, as login does). */
export async function fetchToken(http: HttpClient, challenge: Challenge, scopes: string[], creds: Credentials | undefined, registry: string): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw new HuskError('registry', `${registry} asks for a bearer token but names no realm to get it from`);
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new HuskError('registry', `${registry}'s token realm "${realm}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HuskError('registry', `${registry}'s token realm "${realm}" is not an http(s) URL`);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const s of scopes) url.searchParams.append('scope', s);
  if (creds) url.searchParams.set('account', creds.username);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (creds) headers.authorization = basicHeader(creds);
  const res = await http.request(url, { headers });
  const body = await readBody(res, MAX_TOKEN_RESPONSE, `the token from ${showUrl(url)}`);
  if (res.status === 401 || res.status === 403) {
    throw new HuskError('registry', `${registry}: ${creds ? `the token server refused user "${creds.username}"` : 'authentication required'} (${showUrl(url)} answered ${res.status})`, {
      hint: creds ? undefined : `Log in first: husk login ${registry}`,
    });
  }
  if (res.status !== 200) throw new HuskError('registry', `${registry}: the token server ${showUrl(url)} answered ${res.status}`);
  let parsed: { token?: unknown; access_token?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HuskError('registry', `${registry}: the token server ${showUrl(url)} sent something that is not JSON`);
  }
  const token = typeof parsed?.token === 'string' && parsed.token !== '' ? parsed.token : parsed?.access_token;
  if (typeof token !== 'string' || token === '') throw new HuskError('registry', `${registry}: the token server ${showUrl(url)} sent no token`);
  if (/[\r\n]/.test(token)) throw new HuskError('registry', `${registry}: the token server ${showUrl(url)} sent a token with a line break`);
  return token;
}
