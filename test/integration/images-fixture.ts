// Test images built from Debian's busybox-static, no network: an OCI image layout of three
// layers (gzip, zstd, plain tar) whose upper layers delete a file (.wh.gone), replace a
// directory's contents (an opaque marker) and change a file; and the same image converted by
// skopeo into a docker-archive. Built once per test file.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function sh(script: string, ...args: string[]): string {
  const r = spawnSync('sh', ['-ec', script, 'sh', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${script}\n${r.stderr}`);
  return r.stdout;
}

export function sha256File(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

/** A rootfs directory with busybox and its applets, /etc/passwd and /etc/motd. */
export function busyboxRootfs(dir: string): void {
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!bb) throw new Error('busybox-static is not installed (apt-get install busybox-static)');
  sh(
    `mkdir -p "$1/bin" "$1/etc" "$1/tmp" && cp "$2" "$1/bin/busybox" && for a in $("$2" --list); do [ "$a" = busybox ] || ln -sf busybox "$1/bin/$a"; done
     printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534::/:/bin/sh\\n' > "$1/etc/passwd"; echo base > "$1/etc/motd"`,
    dir,
    bb,
  );
}

/** A layer tar of `dir` (owners 0, as a registry image's are), compressed as asked. */
export function layerTar(dir: string, out: string, compression: 'gzip' | 'zstd' | 'none'): string {
  sh(`tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$1" -cf "$2" .`, dir, `${out}.tar`);
  if (compression === 'gzip') sh(`gzip -n -c "$1.tar" > "$1" && rm "$1.tar"`, out);
  else if (compression === 'zstd') sh(`zstd -q -c "$1.tar" > "$1" && rm "$1.tar"`, out);
  else sh(`mv "$1.tar" "$1"`, out);
  return out;
}

export interface LayoutImage {
  /** the OCI layout directory */
  dir: string;
  /** its ref.name */
  tag: string;
  diffIds: string[];
  configDigest: string;
}

const MEDIA = { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar' };

/** Writes blob bytes into a layout; returns its descriptor. */
export function putBlob(layout: string, data: Buffer, mediaType: string): { mediaType: string; digest: string; size: number } {
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), data);
  return { mediaType, digest, size: data.length };
}

/**
 * An OCI layout of layer directories (bottom → top, each with its compression) under
 * `work`; `config` goes into the image config's `config`.
 */
export function buildLayout(work: string, layers: { dir: string; compression: 'gzip' | 'zstd' | 'none' }[], opts: { tag: string; config?: object; name?: string }): LayoutImage {
  const dir = join(work, opts.name ?? 'layout');
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const descs = [];
  const diffIds = [];
  for (const [i, l] of layers.entries()) {
    const file = layerTar(l.dir, join(work, `layer-${opts.name ?? 'layout'}-${i}`), l.compression);
    if (l.compression !== 'none') sh(`${l.compression} -dc "$1" > "$1.plain"`, file);
    const plain = readFileSync(l.compression === 'none' ? file : `${file}.plain`);
    diffIds.push(`sha256:${createHash('sha256').update(plain).digest('hex')}`);
    descs.push(putBlob(dir, readFileSync(file), MEDIA[l.compression]));
  }
  const config = {
    created: '2026-01-02T03:04:05Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh', '-c', 'cat /etc/motd'], WorkingDir: '/', ...opts.config },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created: '2026-01-02T03:04:05Z', created_by: 'test' })),
  };
  const cfg = putBlob(dir, Buffer.from(JSON.stringify(config)), 'application/vnd.oci.image.config.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: descs };
  const man = putBlob(dir, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...man, annotations: { 'org.opencontainers.image.ref.name': opts.tag } }] }));
  return { dir, tag: opts.tag, diffIds, configDigest: cfg.digest };
}

/**
 * The three-layer busybox image: layer 1 (gzip) the rootfs with /data/{keep,gone} and
 * /opq/{a,b/deep}; layer 2 (zstd) deletes /data/gone, makes /opq opaque with /opq/c, and
 * changes /etc/motd; layer 3 (plain) adds /added3.
 */
export function busyboxImage(work: string, tag = 'husk-test/busybox:3layers'): LayoutImage {
  const l1 = join(work, 'l1');
  const l2 = join(work, 'l2');
  const l3 = join(work, 'l3');
  busyboxRootfs(l1);
  sh(`mkdir -p "$1/data" "$1/opq/b" && echo keep > "$1/data/keep" && echo gone > "$1/data/gone" && echo a > "$1/opq/a" && echo deep > "$1/opq/b/deep"`, l1);
  sh(`mkdir -p "$1/data" "$1/opq" "$1/etc" && : > "$1/data/.wh.gone" && : > "$1/opq/.wh..wh..opq" && echo c > "$1/opq/c" && echo layer2 > "$1/etc/motd"`, l2);
  sh(`mkdir -p "$1" && echo three > "$1/added3"`, l3);
  return buildLayout(work, [{ dir: l1, compression: 'gzip' }, { dir: l2, compression: 'zstd' }, { dir: l3, compression: 'none' }], { tag });
}

/**
 * skopeo's docker-archive of a layout image, named `name` (through a gzip copy of the layout:
 * skopeo will not put a zstd layer in a docker image).
 */
export function skopeoDockerArchive(img: LayoutImage, out: string, name: string): string {
  const gz = gzipLayout(img, `${out}.gz-layout`);
  sh(`skopeo --insecure-policy copy -q "oci:$1:$2" "docker-archive:$3:$4" && rm -rf "$1"`, gz, img.tag, out, name);
  return out;
}

/** skopeo's copy of a layout image with every layer gzip-compressed (for tools without zstd). */
export function gzipLayout(img: LayoutImage, out: string): string {
  sh(`skopeo --insecure-policy copy -q --dest-compress --dest-compress-format gzip "oci:$1:$2" "oci:$3:$2"`, img.dir, img.tag, out);
  return out;
}
