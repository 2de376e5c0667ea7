// kubectl's typed commands (`kubectl create namespace|serviceaccount|configmap|secret|token`) send built-in objects
// as Kubernetes protobuf: the magic "k8s\0", then a runtime.Unknown whose `raw` is the object's generated
// protobuf. This decodes the request bodies of those simple kinds into JSON objects; responses stay JSON, which
// kubectl accepts. Field numbers are from k8s.io/api's generated.proto files.

type Obj = Record<string, any>;
type Value = bigint | Buffer;
interface Field {
  no: number;
  value: Value;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    pos = next;
    const no = Number(key >> 3n);
    switch (Number(key & 7n)) {
      case 0: {
        const [v, p] = readVarint(buf, pos);
        out.push({ no, value: v });
        pos = p;
        break;
      }
      case 1:
        out.push({ no, value: buf.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case 2: {
        const [len, p] = readVarint(buf, pos);
        out.push({ no, value: buf.subarray(p, p + Number(len)) });
        pos = p + Number(len);
        break;
      }
      case 5:
        out.push({ no, value: buf.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        throw new Error('unsupported protobuf wire type');
    }
  }
  return out;
}

const str = (v: Value) => (v as Buffer).toString('utf8');
const strings = (fs: Field[], no: number) => fs.filter((f) => f.no === no).map((f) => str(f.value));
const one = (fs: Field[], no: number) => fs.find((f) => f.no === no)?.value;

function map(fs: Field[], no: number, bytes = false): Record<string, string> | undefined {
  const entries = fs.filter((f) => f.no === no).map((f) => fields(f.value as Buffer));
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map((e) => [str(one(e, 1) ?? Buffer.alloc(0)), bytes ? ((one(e, 2) as Buffer) ?? Buffer.alloc(0)).toString('base64') : str(one(e, 2) ?? Buffer.alloc(0))]));
}

function objectMeta(buf: Buffer | undefined): Obj {
  const fs = fields(buf ?? Buffer.alloc(0));
  const meta: Obj = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)) meta[k] = v;
  };
  set('name', strings(fs, 1)[0]);
  set('generateName', strings(fs, 2)[0]);
  set('namespace', strings(fs, 3)[0]);
  set('labels', map(fs, 11));
  set('annotations', map(fs, 12));
  set('finalizers', strings(fs, 14));
  return meta;
}

function compact(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

const DECODERS: Record<string, (fs: Field[]) => Obj> = {
  Namespace: (fs) => {
    const spec = fields((one(fs, 2) as Buffer) ?? Buffer.alloc(0));
    return compact({ metadata: objectMeta(one(fs, 1) as Buffer), spec: strings(spec, 1).length ? { finalizers: strings(spec, 1) } : undefined });
  },
  ServiceAccount: (fs) => {
    const automount = one(fs, 4);
    return compact({ metadata: objectMeta(one(fs, 1) as Buffer), automountServiceAccountToken: automount === undefined ? undefined : automount !== 0n });
  },
  ConfigMap: (fs) => compact({ metadata: objectMeta(one(fs, 1) as Buffer), data: map(fs, 2), binaryData: map(fs, 3, true) }),
  Secret: (fs) => compact({ metadata: objectMeta(one(fs, 1) as Buffer), data: map(fs, 2, true), type: strings(fs, 3)[0], stringData: map(fs, 4) }),
  TokenRequest: (fs) => {
    const spec = fields((one(fs, 2) as Buffer) ?? Buffer.alloc(0));
    const seconds = one(spec, 4);
    const ref = one(spec, 3);
    const refFields = ref ? fields(ref as Buffer) : [];
    return compact({
      metadata: objectMeta(one(fs, 1) as Buffer),
      spec: compact({
        audiences: strings(spec, 1),
        expirationSeconds: seconds === undefined ? undefined : Number(seconds),
        boundObjectRef: ref ? compact({ kind: strings(refFields, 1)[0], apiVersion: strings(refFields, 2)[0], name: strings(refFields, 3)[0], uid: strings(refFields, 4)[0] }) : undefined,
      }),
    });
  },
};

export const PROTOBUF_KINDS = Object.keys(DECODERS);

/** Decodes a protobuf request body, or returns a reason why it cannot. */
export function decodeProtobuf(body: Buffer): { object: Obj } | { error: string } {
  if (!body.subarray(0, 4).equals(MAGIC)) return { error: 'the body does not start with the Kubernetes protobuf magic' };
  const unknown = fields(body.subarray(4));
  const typeMeta = fields((one(unknown, 1) as Buffer) ?? Buffer.alloc(0));
  const apiVersion = strings(typeMeta, 1)[0] ?? '';
  const kind = strings(typeMeta, 2)[0] ?? '';
  const decoder = DECODERS[kind];
  if (!decoder) return { error: `the test API server decodes protobuf only for ${PROTOBUF_KINDS.join(', ')}, not ${kind}; send it as JSON or YAML, e.g. with kubectl create -f` };
  return { object: { apiVersion, kind, ...decoder(fields((one(unknown, 2) as Buffer) ?? Buffer.alloc(0))) } };
}
