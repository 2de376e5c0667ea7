export type { DeliveredFile, Delivery, RunResult } from './types.ts';
export { parseSha256sum } from './types.ts';
export { SshDelivery } from './ssh.ts';
export { LocalDelivery } from './local.ts';
export { TgzDelivery } from './tgz.ts';
