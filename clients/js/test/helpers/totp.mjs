// RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps), as an authenticator app computes it: the tests make their codes apart
// from the server, with nothing but node:crypto.
import { createHmac } from "node:crypto";

const base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32, padding and case ignored. */
export function base32Decode(text) {
  const clean = text.replace(/[=\s]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const char of clean) {
    const index = base32Alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The code for the 30-second step `stepOffset` steps from the one `timeMs` falls in (RFC 4226's HOTP of that step). */
export function totp(secretBase32, { timeMs = Date.now(), stepOffset = 0, digits = 6, stepSeconds = 30 } = {}) {
  const counter = Math.floor(timeMs / 1000 / stepSeconds) + stepOffset;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac("sha1", base32Decode(secretBase32)).update(message).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}
