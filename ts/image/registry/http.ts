// HTTP for the registry client, on node:http/https (no dependency): keep-alive agents, an idle
// timeout, redirects followed by hand (bounded, loops named, credentials never sent to another
// host), bodies read under a size limit. Every failure is a 'registry' HuskError naming the URL.
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { HuskError } from '../../errors.js';

export const MAX_REDIRECTS = 10;
const DEFAULT_IDLE_MS = 60_000;

export interface HttpOptions {
  /** Verify the registry's TLS certificate (false: --tls-verify=false). */
  tlsVerify: boolean;
  /** How long a connection may stay silent (connect, headers, or mid-body). */
  idleMs?: number;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** A buffer, or a function giving a fresh stream (called again if a redirect repeats the request). */
  body?: Uint8Array | (() => Readable);
  bodyLength?: number;
  /** Follow 3xx (GET and HEAD only); otherwise the 3xx response is returned. */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Where the answer came from (after redirects). */
  url: URL;
  body: IncomingMessage;
}

/** A URL as it may be shown: credentials and query left out (tokens travel in queries). */
export function showUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the registry',
  EPIPE: 'connection closed by the registry',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed (no DNS answer)',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_SSL_WRONG_VERSION_NUMBER: 'it does not speak TLS (a plain-HTTP registry needs --tls-verify=false)',
  EPROTO: 'TLS handshake failed',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed (--tls-verify=false skips the check)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain is self-signed (--tls-verify=false skips the check)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate cannot be verified (--tls-verify=false skips the check)',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another host name',
};

/** Why a connection failed, in words (a network error is not a bug: never 'internal'). */
export function networkReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  if (e instanceof HuskError) return e.message;
  const code = e?.code ?? '';
  // An HTTP answer to a TLS hello: OpenSSL reads it as a record of a wrong version or length.
  if (/wrong version number|packet length too long|http request/i.test(e?.message ?? '')) return NET_ERRORS.ERR_SSL_WRONG_VERSION_NUMBER;
  if (NET_ERRORS[code]) return NET_ERRORS[code];
  return e?.message ?? String(err);
}

/** True for a failure to talk at all (no HTTP answer), as opposed to an HTTP status. */
export function isNetworkError(err: unknown): boolean {
  return err instanceof NetworkError;
}

export class NetworkError extends HuskError {
  constructor(url: URL, cause: unknown) {
    super('registry', `${showUrl(url)}: ${networkReason(cause)}`, { cause });
  }
}

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly idleMs: number;

  constructor(readonly options: HttpOptions) {
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: options.tlsVerify });
  }

  /** Ends the idle keep-alive connections (the process would not wait for them anyway). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async request(url: URL, init: RequestInit = {}): Promise<HttpResponse> {
    const method = init.method ?? 'GET';
    const follow = init.followRedirects ?? (method === 'GET' || method === 'HEAD');
    const seen = new Set<string>();
    let headers = { ...(init.headers ?? {}) };
    let at = url;
    for (let hops = 0; ; hops++) {
      const res = await this.once(at, method, headers, init);
      const location = res.headers.location;
      if (!follow || res.status < 300 || res.status > 399 || res.status === 304 || location === undefined) return res;
      res.body.resume();
      seen.add(at.href);
      let next: URL;
      try {
        next = new URL(location, at);
      } catch {
        throw new HuskError('registry', `${showUrl(at)} redirects to "${location}", which is not a URL`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HuskError('registry', `${showUrl(at)} redirects to a ${next.protocol} URL`);
      if (seen.has(next.href)) throw new HuskError('registry', `${showUrl(url)}: redirect loop (${showUrl(next)} again after ${hops + 1} redirects)`);
      if (hops + 1 > MAX_REDIRECTS) throw new HuskError('registry', `${showUrl(url)}: more than ${MAX_REDIRECTS} redirects`);
      // Blob stores (S3 and the like) get signed URLs: the registry's credentials stay with it.
      if (next.host !== at.host) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      }
      at = next;
    }
  }

  private once(url: URL, method: string, headers: Record<string, string>, init: RequestInit): Promise<HttpResponse> {
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      const hdrs: Record<string, string | number> = { 'user-agent': 'husk', ...headers };
      const body = init.body;
      if (body instanceof Uint8Array) hdrs['content-length'] = body.length;
      else if (body !== undefined && init.bodyLength !== undefined) hdrs['content-length'] = init.bodyLength;
      const req = mod.request(url, { method, headers: hdrs, agent: secure ? this.httpsAgent : this.httpAgent });
      req.setTimeout(this.idleMs, () => req.destroy(new HuskError('registry', `${showUrl(url)}: no answer for ${Math.round(this.idleMs / 1000)}s`)));
      req.once('error', (err) => reject(err instanceof HuskError ? err : new NetworkError(url, err)));
      req.once('response', (res) => {
        // A failure mid-body reaches whoever reads the body, named as a network error.
        res.once('error', () => undefined);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url, body: res });
      });
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else {
        const src = body();
        src.once('error', (err) => req.destroy(err));
        src.pipe(req);
      }
    });
  }
}

/** The whole body, refused past `limit` bytes (a hostile registry can send endless JSON). */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new HuskError('registry', `${what} is too large: ${declared} bytes (husk reads at most ${limit})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        res.body.destroy();
        throw new HuskError('registry', `${what} is too large: more than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HuskError) throw err;
    throw new NetworkError(res.url, err);
  }
  return Buffer.concat(chunks);
}

/** Discards a body we do not need, so its connection can be reused. */
export function discard(res: HttpResponse): void {
  res.body.resume();
}
