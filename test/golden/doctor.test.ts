// doctor against the test API server, cluster side (--skip-vm): a mesh set up as seed 003 says so; each broken
// precondition fails with the command that fixes it, and exit 1; the JSON report.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { configMap, eastwestService, exposedIstiod, meshExpansionSeed, namespace, serviceAccount } from '../helpers/builders.ts';
import { runCase, type Case } from '../helpers/transcript.ts';
import { istiodDeployment, vmRecord, vmWorkloadGroup } from '../helpers/vm-builders.ts';

const test = suite('doctor');
const EXE = 'kubectl-vm-doctor';
const NS = 'vm';
const AUTOREG = { PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION: 'true', PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS: 'true' };

/** Seed 003's mesh: east-west gateway, istiod exposed, auto-registration on, a group with a VM. */
function healthy(over: { drop?: (o: Record<string, any>) => boolean; extra?: Record<string, any>[]; env?: Record<string, string> } = {}) {
  const objects = [
    ...meshExpansionSeed().filter((o) => o.metadata.name !== 'istio-ingressgateway'),
    eastwestService('istio-system'),
    ...exposedIstiod(),
    istiodDeployment(over.env ?? AUTOREG),
    namespace(NS),
    configMap(NS, 'istio-ca-root-cert', { 'root-cert.pem': '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n' }),
    serviceAccount(NS, 'web-sa'),
    vmWorkloadGroup(NS, 'web', 'web-sa', { probe: true }),
    vmRecord(NS, 'web-1', { address: '10.0.0.5' }),
  ];
  return [...objects.filter((o) => !over.drop?.(o)), ...(over.extra ?? [])];
}

async function doctor(args: string[], c: Case) {
  const o = await runCase(EXE, [...args, '-n', NS, '--skip-vm'], c);
  await o.cluster.close();
  return o;
}

const row = (stdout: string, check: string) => stdout.split('\n').find((l) => new RegExp(`^cluster\\s+\\S+\\s+${check}\\s`).test(l)) ?? '';

test('a mesh set up as seed 003 passes every cluster check; doctor only reads (and asks one access review per service account)', async () => {
  const o = await doctor([], { seed: healthy() });
  assert.is(o.code, 0, o.stdout + o.stderr);
  assert.match(o.stdout, /^SCOPE\s+TARGET\s+CHECK\s+STATUS\s+MESSAGE\s+FIX$/m);
  for (const check of ['gateway-ports', 'gateway-address', 'expose-istiod', 'istiod-autoregistration', 'istiod-healthchecks', 'jwt-policy', 'root-cert', 'workload-group', 'service-account', 'token-permission', 'trust-domain']) {
    assert.match(row(o.stdout, check), /\spass\s/, check);
  }
  assert.is(o.stderr, '11 passed, 0 warnings, 0 failed\n');
  assert.equal(o.requests.filter((r) => r.method !== 'GET').map((r) => r.path), ['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']);
});

test('each broken precondition fails with its fix, and the exit code is 1', async () => {
  const cases: [string, Parameters<typeof healthy>[0], string, RegExp][] = [
    ['no gateway', { drop: (o) => o.metadata.name === 'istio-eastwestgateway' }, 'gateway', /fail\s+no gateway for the VMs of network vm-net: meshNetworks: no gateway for network vm-net; no service in istio-system labelled topology\.istio\.io\/network=vm-net exposes port 15443 .*; istio-eastwestgateway: service istio-system\/istio-eastwestgateway does not exist; .*kubectl vm eastwest-gateway --network vm-net --label-namespace \| istioctl install -y -f -$/],
    ['gateway ports', { drop: (o) => o.metadata.name === 'istio-eastwestgateway', extra: [eastwestService('istio-system', [15021, 15443])] }, 'gateway-ports', /fail\s+service\/istio-eastwestgateway of network vm-net lacks ports 15012, 15017 /],
    ['gateway address', { drop: (o) => o.metadata.name === 'istio-eastwestgateway', extra: [eastwestService('istio-system', undefined, null)] }, 'gateway', /fail\s+.*service istio-system\/istio-eastwestgateway has no load-balancer address \(or external IP\) yet/],
    ['expose-istiod', { drop: (o) => o.kind === 'VirtualService' }, 'expose-istiod', /fail\s+istiod is not exposed on the east-west gateway: no virtualservice istiod-vs in istio-system\s+kubectl vm expose-istiod$/],
    ['autoregistration', { env: { PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS: 'true' } }, 'istiod-autoregistration', /fail\s+PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION is not true on istiod, but group web rely on it .*kubectl set env deployment\/istiod -n istio-system -c discovery PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION=true$/],
    ['healthchecks', { env: { PILOT_ENABLE_WORKLOAD_ENTRY_AUTOREGISTRATION: 'true' } }, 'istiod-healthchecks', /fail\s+.*group web have a readiness probe\s+kubectl set env deployment\/istiod -n istio-system -c discovery PILOT_ENABLE_WORKLOAD_ENTRY_HEALTHCHECKS=true$/],
    ['jwt policy', { drop: (o) => o.metadata.name === 'istio-sidecar-injector', extra: [configMap('istio-system', 'istio-sidecar-injector', { values: '{"global":{"jwtPolicy":"first-party-jwt"}}' })] }, 'jwt-policy', /fail\s+values\.global\.jwtPolicy is first-party-jwt.*istioctl install --set values\.global\.jwtPolicy=third-party-jwt$/],
    ['root cert', { drop: (o) => o.metadata.name === 'istio-ca-root-cert' && o.metadata.namespace === NS }, 'root-cert', /fail\s+configmap istio-ca-root-cert is not in namespace vm.*kubectl rollout restart deployment\/istiod -n istio-system$/],
    ['service account', { drop: (o) => o.kind === 'ServiceAccount' }, 'service-account', /fail\s+serviceaccount web-sa was not found in namespace vm\s+kubectl create serviceaccount web-sa -n vm$/],
    ['workload group', { drop: (o) => o.kind === 'WorkloadGroup' }, 'workload-group', /fail\s+workloadgroup web was not found in namespace vm\s+kubectl vm workload-group create --name web -n vm --service-account <sa> --apply$/],
    ['network', { drop: (o) => o.kind === 'WorkloadGroup', extra: [vmWorkloadGroup(NS, 'web', 'web-sa', { network: 'vm-net-2' })] }, 'workload-group', /fail\s+workloadgroup web is on network vm-net-2, but no gateway is labelled topology\.istio\.io\/network=vm-net-2 \(or listed in meshNetworks\)\s+kubectl vm eastwest-gateway --network vm-net-2 --label-namespace \| istioctl install -y -f -$/],
    ['trust domain', { env: { ...AUTOREG, TRUST_DOMAIN: 'example.org' } }, 'trust-domain', /fail\s+meshConfig\.trustDomain is cluster\.local, but istiod TRUST_DOMAIN is example\.org.*istioctl install --set meshConfig\.trustDomain=cluster\.local$/],
  ];
  for (const [name, over, check, expected] of cases) {
    const o = await doctor([], { seed: healthy(over) });
    assert.is(o.code, 1, name);
    assert.match(row(o.stdout, check), expected, `${name}:\n${o.stdout}`);
    assert.match(o.stderr, /, [1-9]\d* failed\n$/, name);
  }
});

test('the caller may not mint tokens: token-permission fails (SelfSubjectAccessReview)', async () => {
  const o = await doctor([], { seed: healthy(), server: { deniedAccess: ['create serviceaccounts/token'] } });
  assert.is(o.code, 1);
  assert.match(row(o.stdout, 'token-permission'), /fail\s+you may not create serviceaccounts\/token for web-sa in namespace vm\s+kubectl create role vm-token-minter -n vm --verb=create --resource=serviceaccounts\/token && kubectl create rolebinding vm-token-minter -n vm --role=vm-token-minter --user=<you>$/);
  const review = o.requests.find((r) => r.path.endsWith('/selfsubjectaccessreviews'))!;
  assert.equal((review.body as any).spec, { resourceAttributes: { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: NS, name: 'web-sa' } });
});

test('-o json: a DoctorReport with every check and the summary; --group and VM names narrow it; an unknown VM is an error', async () => {
  const o = await doctor(['-o', 'json'], { seed: healthy() });
  assert.is(o.code, 0, o.stderr);
  const report = JSON.parse(o.stdout);
  assert.is(report.kind, 'DoctorReport');
  assert.equal(report.summary, { pass: 11, warn: 0, fail: 0 });
  assert.equal(Object.keys(report.checks[0]), ['check', 'scope', 'target', 'status', 'message']);
  const group = await doctor(['--group', 'other', '-o', 'json'], { seed: healthy() });
  assert.is(group.code, 1);
  assert.ok(JSON.parse(group.stdout).checks.some((c: any) => c.check === 'workload-group' && c.target === 'vm/other' && c.status === 'fail'));
  const unknown = await doctor(['nosuch'], { seed: healthy() });
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /^error: no kubectl-vm record of nosuch in namespace vm\nhint: list the VMs with: kubectl vm status -n vm$/m);
});

test.run();
