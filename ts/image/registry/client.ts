// One registry, spoken to as the OCI distribution spec says: /v2/ to find the scheme and the
// auth challenge, then manifests and blobs of a repository with the right Authorization on
// each request (a bearer token per repository scope, fetched once and again on a 401).
import type { Readable } from 'node:stream';
import { HuskError } from '../../errors.js';
import { registryHost } from '../reference.js';
import { basicHeader, fetchToken, pickChallenge } from './auth.js';
import type { Challenge } from './auth.js';
import type { Credentials } from './credentials.js';
import { HttpClient, NetworkError, discard, readBody, showUrl } from './http.js';
import type { HttpResponse, RequestInit } from './http.js';

export interface ClientOptions {
  tlsVerify: boolean;
  credentials?: Credentials;
  idleMs?: number;
}

export type Actions = 'pull' | 'pull,push';

const MAX_ERROR_BODY = 64 << 10;

/** The registry's own words for a failed request: its JSON errors[].code and message. */
async function errorText(res: HttpResponse): Promise<string> {
  let body: Buffer;
  try {
    body = await readBody(res, MAX_ERROR_BODY, 'the error');
  } catch {
    return '';
  }
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(parsed?.errors) ? parsed.errors[0] : undefined;
    if (first) return [first.code, first.message].filter((x) => typeof x === 'string' && x !== '').join(': ').slice(0, 300);
  } catch {
    // not JSON: the status alone says enough
  }
  return '';
}

export class RegistryClient {
  /** Bearer tokens by scope; a promise, so parallel requests share one token request. */
  private readonly tokens = new Map<string, Promise<string>>();

  private constructor(
    readonly registry: string,
    readonly base: URL,
    private readonly http: HttpClient,
    private challenge: Challenge | undefined,
    private readonly credentials: Credentials | undefined,
  ) {}

  /**
   * Reaches `registry`: https, or with tlsVerify false https without the certificate check and
   * then plain http (podman's order). Throws a NetworkError when nothing answers.
   */
  static async connect(registry: string, opts: ClientOptions): Promise<RegistryClient> {
    const http = new HttpClient({ tlsVerify: opts.tlsVerify, idleMs: opts.idleMs });
    const host = registryHost(registry);
    const schemes = opts.tlsVerify ? ['https'] : ['https', 'http'];
    let firstError: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}://${host}/v2/`);
      let res: HttpResponse;
      try {
        res = await http.request(base);
      } catch (err) {
        firstError ??= err;
        if (err instanceof NetworkError) continue;
        http.close();
        throw err;
      }
      discard(res);
      if (res.status === 200 || res.status === 401) {
        return new RegistryClient(registry, base, http, res.status === 401 ? pickChallenge(res.headers['www-authenticate']) : undefined, opts.credentials);
      }
      http.close();
      throw new HuskError('registry', `${registry} is not a registry: ${showUrl(base)} answered ${res.status}`);
    }
    http.close();
    throw firstError;
  }

  close(): void {
    this.http.close();
  }

  /** The Authorization header for `scope`, if the registry asked for one. */
  private async authorization(scope: string, fresh = false): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return this.credentials ? basicHeader(this.credentials) : undefined;
    let token = fresh ? undefined : this.tokens.get(scope);
    if (!token) {
      token = fetchToken(this.http, c, [scope], this.credentials, this.registry);
      this.tokens.set(scope, token);
      token.catch(() => this.tokens.delete(scope));
    }
    return `Bearer ${await token}`;
  }

  /**
   * A request to `path` under /v2/ for `repository`, authorized; on a 401 the new challenge is
   * answered once (a token that expired, or a registry that wants auth only for some repos).
   */
  async request(repository: string, actions: Actions, path: string | URL, init: RequestInit = {}): Promise<HttpResponse> {
    const url = typeof path === 'string' ? new URL(path, this.base) : path;
    const scope = `repository:${repository}:${actions}`;
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authorization(scope, attempt > 0);
      const headers = { ...(init.headers ?? {}) };
      if (auth) headers.authorization = auth;
      const res = await this.http.request(url, { ...init, headers });
      if (res.status !== 401 || attempt > 0) return res;
      const challenge = pickChallenge(res.headers['www-authenticate']);
      discard(res);
      if (!challenge) return this.http.request(url, { ...init, headers });
      this.challenge = challenge;
      if (challenge.scheme === 'basic' && !this.credentials) throw this.unauthorized(repository);
    }
  }

  /** The error for a 401/403 that auth could not fix. */
  unauthorized(repository: string, detail = ''): HuskError {
    const who = this.credentials ? `as "${this.credentials.username}"` : 'anonymously';
    return new HuskError('registry', `${this.registry}/${repository}: access denied ${who}${detail ? ` (${detail})` : ''}`, {
      hint: this.credentials ? undefined : `Log in first: husk login ${this.registry}`,
    });
  }

  /** A failed response as one line: what was asked, the status, the registry's words. */
  async failure(res: HttpResponse, what: string, repository: string): Promise<HuskError> {
    const words = await errorText(res);
    if (res.status === 401 || res.status === 403) return this.unauthorized(repository, words);
    return new HuskError('registry', `${what}: ${showUrl(res.url)} answered ${res.status}${words ? ` (${words})` : ''}`);
  }

  url(path: string): URL {
    return new URL(path, this.base);
  }

  /** Checks the credentials (login): a token for no scope, or /v2/ with Basic auth. */
  async checkLogin(): Promise<void> {
    const c = this.challenge;
    if (!c) return;
    if (c.scheme === 'bearer') {
      try {
        await fetchToken(this.http, c, [], this.credentials, this.registry);
      } catch (err) {
        if (err instanceof NetworkError) throw err;
        throw new HuskError('registry', `login to ${this.registry} failed: ${(err as Error).message.replace(`${this.registry}: `, '')}`, { cause: err });
      }
      return;
    }
    const headers: Record<string, string> = this.credentials ? { authorization: basicHeader(this.credentials) } : {};
    const res = await this.http.request(this.base, { headers });
    discard(res);
    if (res.status === 401 || res.status === 403) throw new HuskError('registry', `login to ${this.registry} failed: unauthorized (wrong username or password)`);
    if (res.status !== 200) throw new HuskError('registry', `login to ${this.registry} failed: ${showUrl(this.base)} answered ${res.status}`);
  }

  /** A stream body for a request (PUT/PATCH of a blob), with its length. */
  static body(open: () => Readable, length: number): Pick<RequestInit, 'body' | 'bodyLength'> {
    return { body: open, bodyLength: length };
  }
}
