// kubectl's plain table: upper-case headers, columns padded to their widest cell plus three spaces, the last
// column not padded (so lines carry no trailing blanks).
export function formatTable(header: string[], rows: string[][]): string[] {
  const cells = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  return cells.map((c) => c.map((v, i) => (i < header.length - 1 ? (v ?? '').padEnd(widths[i]! + 3) : (v ?? ''))).join('').trimEnd());
}
