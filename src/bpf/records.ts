// Small helpers shared by the record decoders of every receiver.
const AF_INET = 2;
const AF_INET6 = 10;

/** A NUL-terminated string inside a fixed-size field, decoded without copying the field. */
export function readCString(buf: Buffer, offset: number, size: number): string {
  let end = buf.indexOf(0, offset);
  if (end < 0 || end > offset + size) end = offset + size;
  return buf.toString('utf8', offset, end);
}

export function formatAddress(family: number, buf: Buffer, offset: number): string | undefined {
  if (family === AF_INET) return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
  if (family !== AF_INET6) return undefined;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(offset + i).toString(16));
  // IPv4-mapped addresses read better as IPv4.
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    return `::ffff:${buf[offset + 12]}.${buf[offset + 13]}.${buf[offset + 14]}.${buf[offset + 15]}`;
  }
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}
