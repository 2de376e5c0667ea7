// The systemd runtime: the istio-sidecar package's istio.service (seed 003), with kubectl-vm's drop-in
// (layout.ts) that restores the token before each start.
import { CliError, ExitCode } from '../../errors.ts';
import { DROP_IN, SYSTEMD_UNIT, systemdLayout } from '../layout.ts';
import type { RuntimeCommands } from './types.ts';

export const PACKAGE = 'istio-sidecar';

/** Which package manager the VM has decides which package file to name. */
const PREFLIGHT = [
  'if ! command -v systemctl > /dev/null 2>&1; then echo "missing systemd";',
  `elif command -v dpkg > /dev/null 2>&1; then if dpkg -s ${PACKAGE} > /dev/null 2>&1; then echo ok; else echo "missing deb"; fi;`,
  `elif command -v rpm > /dev/null 2>&1; then if rpm -q ${PACKAGE} > /dev/null 2>&1; then echo ok; else echo "missing rpm"; fi;`,
  'else echo "missing package-manager"; fi',
].join(' ');

export function systemdCommands(): RuntimeCommands {
  const reload = `systemctl daemon-reload && systemctl enable ${SYSTEMD_UNIT}`;
  return {
    runtime: 'systemd',
    preflight: PREFLIGHT,
    start: `${reload} && systemctl start ${SYSTEMD_UNIT}`,
    restart: `${reload} && systemctl restart ${SYSTEMD_UNIT}`,
    stop: `systemctl disable --now ${SYSTEMD_UNIT}`,
    status: `systemctl is-active --quiet ${SYSTEMD_UNIT}`,
    uninstall: `rm -f ${DROP_IN} && systemctl daemon-reload`,
    workloadCertDir: systemdLayout().workloadCertDir,
  };
}

/** The error for a `missing …` answer of the preflight: names the package to install for the VM's OS. */
export function preflightError(host: string, answer: string, istioVersion?: string): CliError | undefined {
  const what = answer.trim().split('\n').pop() ?? '';
  if (what === 'ok') return undefined;
  const version = istioVersion && /^\d+\.\d+\.\d+/.test(istioVersion) ? istioVersion : '<istio version>';
  const url = (kind: 'deb' | 'rpm') => `https://storage.googleapis.com/istio-release/releases/${version}/${kind}/${PACKAGE}.${kind}`;
  if (what === 'missing deb') {
    return new CliError(`${host}: the ${PACKAGE} package is not installed`, ExitCode.general, {
      hint: `install it on the VM (Debian/Ubuntu): curl -LO ${url('deb')} && sudo dpkg -i ${PACKAGE}.deb; or use --runtime docker`,
    });
  }
  if (what === 'missing rpm') {
    return new CliError(`${host}: the ${PACKAGE} package is not installed`, ExitCode.general, {
      hint: `install it on the VM (RHEL/CentOS/Fedora): curl -LO ${url('rpm')} && sudo rpm -i ${PACKAGE}.rpm; or use --runtime docker`,
    });
  }
  if (what === 'missing systemd') return new CliError(`${host}: systemctl was not found: the systemd runtime needs systemd`, ExitCode.general, { hint: 'use --runtime docker' });
  return new CliError(`${host}: neither dpkg nor rpm was found, so the ${PACKAGE} package cannot be checked`, ExitCode.general, {
    hint: `install ${PACKAGE} from ${url('deb')} (or .rpm), or use --runtime docker`,
  });
}
