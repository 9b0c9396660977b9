// snappyjs ships no types: the two calls Vigil makes (snappy block format, not framed).
declare module 'snappyjs' {
  /** Throws when the stream is invalid or its length header is above `maxLength`. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
