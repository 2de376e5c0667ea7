// The four files of Istio's plug-in CA (the `cacerts` Secret of seeds 001 and 004), checked before they go into
// the cluster: each parses as PEM, the CA certificate is a CA and matches its key, and the chain leads from it to
// one of the roots. Istio's published sample certificates are recognised by the SHA-256 fingerprint of their DER.
// Pure: node:crypto only; the clock is a parameter.
import { X509Certificate, createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { DataError } from '../errors.ts';
import { MANAGED_BY_LABEL, MANAGER, type KubeObject } from '../kube/objects.ts';

export const CACERTS_SECRET = 'cacerts';

/** The Secret's keys, as istiod reads them from /etc/cacerts. */
export const CA_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;
export type CaFile = (typeof CA_FILES)[number];

/**
 * `openssl x509 -noout -fingerprint -sha256` of every certificate in Istio's samples/certs/ (root-cert.pem,
 * ca-cert.pem and the -alt / -alt-2 sets of the CA rotation examples).
 */
export const SAMPLE_CERT_FINGERPRINTS: Readonly<Record<string, string>> = {
  '63:72:7A:17:85:CA:B4:7A:CE:C5:C2:4C:C0:66:9C:20:82:4E:8A:E1:AC:28:07:9A:4D:2F:8C:83:05:92:E7:B0': 'samples/certs/root-cert.pem',
  'F8:67:17:4E:4A:31:F1:79:2F:8C:03:54:A2:3F:8F:04:9B:D4:01:97:29:CD:2E:E5:79:D6:70:33:06:5B:2D:C2': 'samples/certs/ca-cert.pem',
  '11:C9:20:2C:6B:E8:EA:5F:CF:B4:6D:85:91:A8:CF:83:B2:0E:B9:7A:DE:97:23:48:40:85:1A:F8:76:3A:E4:28': 'samples/certs/root-cert-alt.pem',
  '40:FF:5D:9D:CA:A8:08:33:BB:72:91:EF:1F:89:AC:D9:F4:DA:11:D6:C6:00:6B:78:89:7D:3F:9E:2C:FF:86:B5': 'samples/certs/ca-cert-alt.pem',
  '67:7F:BF:66:15:31:AB:42:1E:73:BF:E7:B2:EB:DB:7E:C5:50:91:74:E3:DF:CD:39:D2:4B:85:2E:2D:46:D4:6C': 'samples/certs/ca-cert-alt-2.pem',
};

/**
 * SHA-256 of the public key (SubjectPublicKeyInfo, DER) of every key in Istio's samples/certs/: a private key given
 * as --ca-key, or a certificate re-issued for one of these keys, is as public as the samples themselves.
 */
export const SAMPLE_KEY_FINGERPRINTS: Readonly<Record<string, string>> = {
  '42d8cfd1102e06e3f2579e68f9db4f787ec9cbcd1f19f1bae7934cee918c2fef': 'samples/certs/ca-key.pem',
  '88e809261b157f0db238901c0033e6bfeba79793c20ab8af41963cdd41ce6600': 'samples/certs/ca-key-alt.pem',
  '02f9ef016e164f12013c7e8d1f19b4ebd85738ef9cbee079a077bfd9166794cf': 'samples/certs/ca-key-alt-2.pem',
  '7c5f2208b98507d0d6f1fda0a6609e93fbb7fb434d39ed78b71e305e23d7a46d': 'the key of samples/certs/ca-cert-alt-2.pem',
  'f0592d4d660052580d0c0bfe09f9a4d795ad8ab7c2fa86c33276fbb352145ee5': 'the key of samples/certs/root-cert.pem',
  '42d0f6531c3afb84b72f12f458fa35dc74402771fed9b27ad48a665474dde501': 'the key of samples/certs/root-cert-alt.pem',
};

/** The seeds' warning about the samples, said whenever they are used anyway. */
export const SAMPLE_CERT_WARNING =
  'the root and intermediate certificates from Istio\'s samples directory are widely distributed and known: do not use them in production, or your clusters are open to compromise';

export interface CaFileInput {
  /** Where it came from, for messages (the path the user gave). */
  source: string;
  text: string;
}

export type CaInputs = Record<CaFile, CaFileInput>;

export interface CheckedCa {
  caCert: X509Certificate;
  roots: X509Certificate[];
  chain: X509Certificate[];
  /** Files that are, contain, or are signed by one of Istio's sample certificates or keys. */
  samples: SampleFinding[];
}

export interface SampleFinding {
  file: CaFile;
  /** The sample, as named in Istio's samples/certs/. */
  sample: string;
  /** How the file relates to it, for messages: "is Istio's samples/certs/ca-cert.pem". */
  what: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, pem: m[0] }));
}

function certificates(file: CaFile, input: CaFileInput): X509Certificate[] {
  const blocks = pemBlocks(input.text);
  const what = `--${file.replace('.pem', '')} ${input.source}`;
  if (blocks.length === 0) throw new DataError(`${what} is not a PEM file: it has no "-----BEGIN CERTIFICATE-----" block`, { hint: 'give the PEM-encoded certificate, e.g. as written by openssl' });
  return blocks.map((b, i) => {
    if (b.label !== 'CERTIFICATE') throw new DataError(`${what} holds a "${b.label}" block where a certificate belongs (block ${i + 1})`, { hint: `check that ${file} is the file you meant` });
    try {
      return new X509Certificate(b.pem);
    } catch (err) {
      throw new DataError(`certificate ${i + 1} of ${what} does not parse: ${(err as Error).message}`, { hint: 'check the file: openssl x509 -noout -text -in <file>' });
    }
  });
}

function privateKey(input: CaFileInput): KeyObject {
  const what = `--ca-key ${input.source}`;
  const blocks = pemBlocks(input.text);
  if (blocks.length !== 1 || !/PRIVATE KEY$/.test(blocks[0]!.label)) {
    throw new DataError(`${what} is not a PEM private key${blocks.length > 1 ? `: it holds ${blocks.length} PEM blocks` : ''}`, { hint: 'give the CA\'s private key, unencrypted, e.g. "-----BEGIN PRIVATE KEY-----"' });
  }
  try {
    return createPrivateKey(blocks[0]!.pem);
  } catch (err) {
    throw new DataError(`${what} does not parse as a private key: ${(err as Error).message}`, { hint: 'an encrypted key must be decrypted first: openssl pkey -in <file> -out <plain file>' });
  }
}

const name = (c: X509Certificate) => c.subject.split('\n').filter(Boolean).join(', ');
const issuedBy = (child: X509Certificate, parent: X509Certificate) => child.checkIssued(parent) && child.verify(parent.publicKey);

const spkiFingerprint = (k: KeyObject) => createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest('hex');

/** The sample a certificate is, or whose key it carries. */
function sampleCert(c: X509Certificate): { sample: string; what: string } | undefined {
  const cert = SAMPLE_CERT_FINGERPRINTS[c.fingerprint256];
  if (cert) return { sample: cert, what: `Istio's ${cert}` };
  const key = SAMPLE_KEY_FINGERPRINTS[spkiFingerprint(c.publicKey)];
  if (key) return { sample: key, what: `a certificate for Istio's sample key (${key})` };
  return undefined;
}

/**
 * Each file checked on its own, so that one sample file in an otherwise private set is named as such: a
 * certificate that is a sample or carries a sample key, the sample key itself, and a CA certificate signed by a
 * sample certificate given in the root or the chain.
 */
export function findSamples(caCert: X509Certificate, key: KeyObject, roots: X509Certificate[], chain: X509Certificate[]): SampleFinding[] {
  const found: SampleFinding[] = [];
  const ca = sampleCert(caCert);
  if (ca) found.push({ file: 'ca-cert.pem', sample: ca.sample, what: `is ${ca.what}` });
  const keySample = SAMPLE_KEY_FINGERPRINTS[spkiFingerprint(createPublicKey(key))];
  if (keySample) found.push({ file: 'ca-key.pem', sample: keySample, what: `is Istio's ${keySample}` });
  for (const [file, certs] of [['root-cert.pem', roots], ['cert-chain.pem', chain]] as const) {
    const hit = certs.map((c, i) => ({ i, s: sampleCert(c) })).find((h) => h.s);
    if (hit) found.push({ file, sample: hit.s!.sample, what: certs.length === 1 ? `is ${hit.s!.what}` : `holds ${hit.s!.what} (certificate ${hit.i + 1})` });
  }
  if (!ca) {
    const signer = [...roots, ...chain].find((c) => sampleCert(c) && issuedBy(caCert, c));
    if (signer) found.push({ file: 'ca-cert.pem', sample: sampleCert(signer)!.sample, what: `is signed by ${sampleCert(signer)!.what}` });
  }
  return found;
}

/** "--ca-cert ca-cert.pem is Istio's samples/certs/ca-cert.pem; …", for the refusal and the warning. */
export function describeSamples(samples: SampleFinding[], inputs: CaInputs): string {
  return samples.map((s) => `--${s.file.replace('.pem', '')} ${inputs[s.file].source} ${s.what}`).join('; ');
}

/**
 * Parses and checks the four files. Throws a DataError naming the file and what is wrong with it. Istio's sample
 * certificates and keys are looked for right after parsing, before the files are checked against each other: they
 * are refused unless allowSamples, and reported in `samples` either way.
 */
export function checkCaFiles(inputs: CaInputs, now: Date, options: { allowSamples: boolean }): CheckedCa {
  const [caCert, ...extra] = certificates('ca-cert.pem', inputs['ca-cert.pem']);
  if (extra.length) throw new DataError(`--ca-cert ${inputs['ca-cert.pem'].source} holds ${extra.length + 1} certificates; it must hold only the CA certificate`, { hint: 'put the certificates above it into --cert-chain' });
  const key = privateKey(inputs['ca-key.pem']);
  const roots = certificates('root-cert.pem', inputs['root-cert.pem']);
  const chain = certificates('cert-chain.pem', inputs['cert-chain.pem']);
  const samples = findSamples(caCert!, key, roots, chain);
  if (samples.length && !options.allowSamples) {
    throw new DataError(`refusing Istio's published sample certificates: ${describeSamples(samples, inputs)}`, {
      details: [SAMPLE_CERT_WARNING],
      hint: `make a CA of your own (Istio's "Plug in CA Certificates" task shows how), or add --allow-sample-certs on a test cluster`,
    });
  }

  if (!caCert!.ca) throw new DataError(`--ca-cert ${inputs['ca-cert.pem'].source} (${name(caCert!)}) is not a CA certificate (basicConstraints CA:TRUE is missing)`, { hint: 'istiod signs workload certificates with it: give an intermediate CA certificate' });
  if (!caCert!.checkPrivateKey(key)) {
    throw new DataError(`--ca-key ${inputs['ca-key.pem'].source} is not the key of --ca-cert ${inputs['ca-cert.pem'].source} (${name(caCert!)})`, { hint: 'give the key the CA certificate was made for' });
  }
  for (const [file, certs] of [['ca-cert.pem', [caCert!]], ['root-cert.pem', roots], ['cert-chain.pem', chain]] as const) {
    for (const c of certs) {
      if (new Date(c.validTo) <= now) throw new DataError(`${name(c)} in --${file.replace('.pem', '')} ${inputs[file].source} expired on ${c.validTo}`, { hint: 'make new certificates' });
      if (new Date(c.validFrom) > now) throw new DataError(`${name(c)} in --${file.replace('.pem', '')} ${inputs[file].source} is not valid before ${c.validFrom}`, { hint: 'check the clock, or make new certificates' });
    }
  }
  for (const r of roots) {
    if (!issuedBy(r, r) || !r.ca) throw new DataError(`${name(r)} in --root-cert ${inputs['root-cert.pem'].source} is not a self-signed CA certificate`, { hint: 'root-cert.pem holds the root CA certificate(s) only' });
  }
  if (chain[0]!.fingerprint256 !== caCert!.fingerprint256) {
    throw new DataError(`--cert-chain ${inputs['cert-chain.pem'].source} does not start with the CA certificate (${name(caCert!)}); it starts with ${name(chain[0]!)}`, { hint: 'cert-chain.pem is ca-cert.pem followed by its issuers, up to the root: cat ca-cert.pem root-cert.pem > cert-chain.pem' });
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!issuedBy(chain[i]!, chain[i + 1]!)) {
      throw new DataError(`--cert-chain ${inputs['cert-chain.pem'].source}: certificate ${i + 1} (${name(chain[i]!)}) is not signed by certificate ${i + 2} (${name(chain[i + 1]!)})`, { hint: 'order the chain from the CA certificate up to the root' });
    }
  }
  const top = chain[chain.length - 1]!;
  if (!roots.some((r) => r.fingerprint256 === top.fingerprint256 || issuedBy(top, r))) {
    throw new DataError(`--cert-chain ${inputs['cert-chain.pem'].source} does not lead to the root in --root-cert ${inputs['root-cert.pem'].source} (${roots.map(name).join('; ')}): it ends at ${name(top)}, issued by ${top.issuer.split('\n').filter(Boolean).join(', ')}`, {
      hint: 'the chain and the root must come from the same CA; check with: openssl verify -CAfile root-cert.pem -untrusted cert-chain.pem ca-cert.pem',
    });
  }

  return { caCert: caCert!, roots, chain, samples };
}

/** The cacerts Secret, as `kubectl create secret generic cacerts --from-file=…` makes it, labelled as ours. */
export function buildCaCertsSecret(namespace: string, inputs: CaInputs): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: CACERTS_SECRET, namespace, labels: { [MANAGED_BY_LABEL]: MANAGER } },
    type: 'Opaque',
    data: Object.fromEntries(CA_FILES.map((f) => [f, Buffer.from(inputs[f].text, 'utf8').toString('base64')])),
  };
}

/** A Secret fit to print: every data value replaced by `<redacted: N bytes>`, N the decoded size. */
export function redactSecret<T extends KubeObject>(secret: T): T {
  const data = (secret.data ?? {}) as Record<string, string>;
  return { ...secret, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, `<redacted: ${Buffer.from(v, 'base64').length} bytes>`])) };
}

/** The keys of a pre-1.5 Istio workload Secret `istio.<service-account>` (type istio.io/key-and-cert). */
export const WORKLOAD_KEY_FILES = ['root-cert.pem', 'cert-chain.pem', 'key.pem'] as const;

/**
 * Checks what a workload Secret holds: every certificate parses, the key parses and belongs to the first
 * certificate of the chain. Returns a problem to report, or undefined.
 */
export function workloadKeysProblem(files: Record<(typeof WORKLOAD_KEY_FILES)[number], string>): string | undefined {
  const certs = (file: 'root-cert.pem' | 'cert-chain.pem') => {
    const blocks = pemBlocks(files[file]).filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length === 0) throw new Error(`${file} holds no PEM certificate`);
    return blocks.map((b) => new X509Certificate(b.pem));
  };
  try {
    certs('root-cert.pem');
    const [leaf] = certs('cert-chain.pem');
    const keyBlock = pemBlocks(files['key.pem']).find((b) => /PRIVATE KEY$/.test(b.label));
    if (!keyBlock) return 'key.pem holds no PEM private key';
    if (!leaf!.checkPrivateKey(createPrivateKey(keyBlock.pem))) return 'key.pem is not the key of the first certificate in cert-chain.pem';
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
