// How examples are found in README.md and --help (test/helpers/examples.ts), and the conventions that mark them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { helpExamples, helpSubcommands, readmeExamples } from '../helpers/examples.ts';

const test = suite('examples extraction');

test('README: kubectl vm lines of ```sh blocks only, with trailing comments, `# exits N`, shells and continued lines', () => {
  const md = [
    '```',
    'kubectl vm synopsis <name> [flags]',
    '```',
    '',
    '```sh',
    'npm ci && npm test',
    'kubectl vm dns-stub --dry-run      # see the diff',
    "kubectl vm expose-service httpbin -n bar | ssh vm 'echo # not a comment'",
    'kubectl vm register x 10.0.0.1 \\',
    '  http:8080 -n vm',
    'kubectl vm deregister nope 10.0.0.1   # exits 1: no such Service',
    'kubectl vm completion fish | source   # in fish',
    '```',
    'Prose that says `kubectl vm completion kubectl-hook` is not an example.',
  ].join('\n');
  const got = readmeExamples(md);
  assert.equal(
    got.map((e) => [e.source, e.command, e.exits, e.shell]),
    [
      ['README.md:7', 'kubectl vm dns-stub --dry-run', 0, 'bash'],
      ['README.md:8', "kubectl vm expose-service httpbin -n bar | ssh vm 'echo # not a comment'", 0, 'bash'],
      ['README.md:9', 'kubectl vm register x 10.0.0.1  http:8080 -n vm', 0, 'bash'],
      ['README.md:11', 'kubectl vm deregister nope 10.0.0.1', 1, 'bash'],
      ['README.md:12', 'kubectl vm completion fish | source', 0, 'fish'],
    ],
  );
});

test('--help: comments and commands wrapped by yargs are joined again; exits N in the comment counts', () => {
  const help = [
    'kubectl vm x',
    '',
    'Commands:',
    '  kubectl vm x external-service [name]  Do it   [aliases: es]',
    '',
    'Examples:',
    '  # Replace the CA of a running mesh (then: kubectl rollout restart deployment/istiod -n',
    '  istio-system)',
    '  kubectl vm ca-certs create --ca-cert ca-cert.pem --ca-key ca-key.pem',
    '  --cert-chain cert-chain.pem --force',
    '  # Complete kubectl-vm in bash',
    '  source <(kubectl vm completion bash)',
    '  # A missing one exits 1',
    '  kubectl vm deregister nope 10.0.0.1',
    '',
  ].join('\n');
  assert.equal(
    helpExamples(help, 'x --help').map((e) => [e.comment, e.command, e.exits]),
    [
      ['Replace the CA of a running mesh (then: kubectl rollout restart deployment/istiod -n istio-system)', 'kubectl vm ca-certs create --ca-cert ca-cert.pem --ca-key ca-key.pem --cert-chain cert-chain.pem --force', 0],
      ['Complete kubectl-vm in bash', 'source <(kubectl vm completion bash)', 0],
      ['A missing one exits 1', 'kubectl vm deregister nope 10.0.0.1', 1],
    ],
  );
  assert.equal(helpSubcommands(help, 'kubectl vm x'), ['external-service']);
  assert.equal(helpExamples('no examples here\n', 'y'), []);
});

test.run();
