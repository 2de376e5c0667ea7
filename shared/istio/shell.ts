// Values in cluster.env are read by bash (`set -a; . cluster.env`), so they are quoted as istioctl quotes them
// (pkg/util/shellescape). That code's character class [^\\w@%+=:,./-] is a Go raw string, so `\\w` means a
// backslash and the letter w, not word characters (bug B1): nearly every value ends up single-quoted, and only
// values made of w @ % + = : , . / - \ stay bare. We copy it, because cluster.env must match istioctl byte for
// byte, and the result is valid bash either way.

const BARE = /^[\\w@%+=:,./-]+$/;

export function shellQuote(value: string): string {
  if (value === '') return "''";
  if (BARE.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}
