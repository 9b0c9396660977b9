// API keys travel only as their sha256 hex hash: the config stores hashes, the gateway
// hashes what a caller presents and compares. One function so both sides agree.
import { createHash } from 'node:crypto';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
