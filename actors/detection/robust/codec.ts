// JSON has no NaN or ±Infinity: state arrays carry them as strings and come back exact.
export type Packed = Array<number | string>;

export function pack(values: ArrayLike<number>): Packed {
  const out: Packed = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    out[i] = Number.isFinite(v) ? v : String(v);
  }
  return out;
}

export function unpack(packed: readonly unknown[]): number[] {
  return packed.map((v) => {
    if (typeof v === 'number') return v;
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    throw new TypeError(`robust snapshot: not a number: ${JSON.stringify(v)}`);
  });
}
