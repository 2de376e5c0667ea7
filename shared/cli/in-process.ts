// How the router runs a sibling command in its own process. In a build every executable's code is one bundle, kept
// in the router (scripts/build.mjs); that bundle's entry registers here the function that starts a command by its
// executable's name, so that the router runs `kubectl vm add-to-mesh …` without a second Node start-up and without
// evaluating the bundle twice. Unbundled (tests under tsx) nothing registers, and the router requires the sibling.

type Start = (executable: string) => unknown;
let start: Start | undefined;

export function registerInProcess(fn: Start): void {
  start = fn;
}

/** The registered starter, or undefined when the code is not one bundle. */
export function inProcessStarter(): Start | undefined {
  return start;
}
