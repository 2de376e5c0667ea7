// JSON exactly as Go's encoding/json writes a map[string]string: keys in byte order, no spaces, and <, >, &,
// U+2028 and U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029 (istioctl's ISTIO_METAJSON_LABELS, B14).

const ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => ESCAPES[c]!);
}

/** Byte order of UTF-8, as Go's sort.Strings compares. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function goJsonMap(map: Record<string, string>): string {
  return `{${Object.keys(map)
    .sort(byteOrder)
    .map((k) => `${goJsonString(k)}:${goJsonString(map[k]!)}`)
    .join(',')}}`;
}
