// Build-time stand-in for node:assert inside yargs, which uses only strictEqual and notStrictEqual (to check its
// own state). Loading the real module pulls in five more of Node's built-in modules on every start of every
// executable, --help included; these two functions need none of them. Node's AssertionError is what they throw.
function fail(message, fallback) {
  if (message instanceof Error) throw message;
  const err = new Error(message ?? fallback);
  err.name = 'AssertionError';
  err.code = 'ERR_ASSERTION';
  throw err;
}

export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) fail(message, `Expected values to be strictly equal: ${String(actual)} !== ${String(expected)}`);
}

export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail(message, `Expected "actual" to be strictly unequal to: ${String(expected)}`);
}

export default { strictEqual, notStrictEqual };
