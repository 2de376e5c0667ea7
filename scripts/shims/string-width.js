// Build-time stand-in for the string-width package inside yargs' help layout. The real one compiles a large
// Unicode emoji regular expression when it loads, which costs ~30 ms on every start of every executable; help
// text is ASCII plus the odd wide character, which this handles.
const ANSI = /\u001B\[[0-9;]*[A-Za-z]|\u001B\][^\u0007]*\u0007/g;

function isWide(c) {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

export default function stringWidth(input) {
  let width = 0;
  for (const ch of String(input).replace(ANSI, '')) {
    const c = ch.codePointAt(0);
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370) || c === 0x200b) continue;
    width += isWide(c) ? 2 : 1;
  }
  return width;
}
