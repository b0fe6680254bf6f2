// CRC-32 of a concatenation from the CRCs of its parts (zlib's crc32_combine, multmodp/x2nmodp):
// crc(A‖B) = crc32Combine(crc(A), crc(B), |B|). The torn-tail rule uses it to test a record's
// CRC under hundreds of candidate lengths without rehashing the record for each one (the length
// field comes first in the bytes the CRC covers, so no incremental CRC can be shared).
const POLY = 0xedb88320; // reflected CRC-32 (IEEE), as the kernel computes it

/** a × b modulo the CRC polynomial (reflected bit order); `a` must be nonzero. */
function multmodp(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** X2N[k] = x^(2^k) modulo the polynomial. */
const X2N: number[] = [0x40000000];
for (let k = 1; k < 32; k++) X2N.push(multmodp(X2N[k - 1]!, X2N[k - 1]!));

/** x^(n·2^k) modulo the polynomial. */
function x2nmodp(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multmodp(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** The CRC-32 of A‖B, given crc(A), crc(B) and the length of B in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multmodp(x2nmodp(lengthB, 3), crcA >>> 0) ^ crcB) >>> 0;
}
