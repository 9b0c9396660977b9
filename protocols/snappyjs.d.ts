// snappyjs ships no types: the one call Vigil makes, in tests and benches that build remote-write
// bodies (snappy block format, not framed). The node decodes with its own strict decoder
// (protocols/snappy.ts): snappyjs's could loop for billions of steps on a hostile block.
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
}
