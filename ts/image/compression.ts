// Compression of archives and layers, told by their first bytes (as docker does), and
// streams that undo it: gzip by zlib, zstd by fzstd (Node 20's zlib has no zstd).
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

export function sniffCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
  return 'none';
}

/** The OCI layer media type of a layer with this compression. */
export function layerMediaType(c: Compression): string {
  if (c === 'gzip') return 'application/vnd.oci.image.layer.v1.tar+gzip';
  if (c === 'zstd') return 'application/vnd.oci.image.layer.v1.tar+zstd';
  return 'application/vnd.oci.image.layer.v1.tar';
}

function zstdStream(): Transform {
  let out: Transform;
  const dec = new Decompress((chunk) => {
    out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  out = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        dec.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      try {
        dec.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return out;
}

/** A stream that undoes `c` (none: passes through). */
export function decompressor(c: Compression): Transform {
  if (c === 'gzip') return createGunzip();
  if (c === 'zstd') return zstdStream();
  return new Transform({ transform: (chunk, _e, cb) => cb(null, chunk) });
}
