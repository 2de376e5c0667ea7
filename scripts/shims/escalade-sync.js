// Build-time stand-in for escalade/sync inside yargs, which uses it for one thing: to find a package.json above the
// main file (for a bundle without node_modules in its path, above the current directory) and take that file's
// "yargs" key as parser configuration and its "version" as the default --version. kubectl-vm gives yargs both, so
// the search only cost a directory listing per level up to / on every run, and let a package.json in the user's
// directory change how kubectl-vm parses its arguments. Finding nothing is what yargs does in an empty tree.
export default function findUp() {
  return undefined;
}
