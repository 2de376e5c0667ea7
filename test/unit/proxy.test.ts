// Which proxy a request takes: client-go's rules (proxy-url first, then Go's ProxyFromEnvironment with NO_PROXY).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { proxyFor, useProxy } from '../../shared/kube/proxy.ts';
import { ConfigError } from '../../shared/errors.ts';
import { throwsCliError } from '../helpers/assert.ts';

const test = suite('proxy choice (client-go and golang.org/x/net/http/httpproxy rules)');
const server = new URL('https://kube.example.com:6443');
const proxy = (env: Record<string, string>, s = server, proxyUrl?: string) => proxyFor(s, proxyUrl, env)?.href;

test('HTTPS_PROXY for https servers, HTTP_PROXY for http ones; upper case first; no scheme means http://', () => {
  assert.is(proxy({ HTTPS_PROXY: 'http://p:3128' }), 'http://p:3128/');
  assert.is(proxy({ https_proxy: 'http://lower:3128' }), 'http://lower:3128/');
  assert.is(proxy({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }), 'http://upper:1/');
  assert.is(proxy({ HTTP_PROXY: 'http://p:3128' }), undefined, 'HTTP_PROXY does not apply to https');
  assert.is(proxy({ HTTP_PROXY: 'http://p:3128' }, new URL('http://kube.example.com:8080')), 'http://p:3128/');
  assert.is(proxy({ HTTPS_PROXY: 'p.corp:3128' }), 'http://p.corp:3128/');
  assert.is(proxy({ HTTPS_PROXY: 'socks5://s:1080' }), 'socks5://s:1080');
  assert.is(proxy({}), undefined);
});

test('proxy-url wins over the environment and applies to every address, loopback too', () => {
  assert.is(proxy({ HTTPS_PROXY: 'http://env:1', NO_PROXY: '*' }, server, 'http://kc:2'), 'http://kc:2/');
  assert.is(proxy({}, new URL('https://127.0.0.1:6443'), 'http://kc:2'), 'http://kc:2/');
  throwsCliError(() => proxy({}, server, 'ftp://p:21'), ConfigError, /proxy URL scheme ftp not supported/, 69);
});

test('localhost and loopback addresses never use the environment proxy', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.is(useProxy(host, '443', ''), false, host);
  assert.is(useProxy('10.0.0.1', '443', ''), true);
});

test('NO_PROXY: "*", domains and subdomains, leading dots and "*.", IPs, CIDRs, ports', () => {
  assert.is(useProxy('kube.example.com', '6443', '*'), false);
  assert.is(useProxy('kube.example.com', '6443', 'example.com'), false, 'a domain matches its subdomains');
  assert.is(useProxy('example.com', '6443', 'example.com'), false, 'and itself');
  assert.is(useProxy('example.com', '6443', '.example.com'), true, 'a leading dot matches only subdomains');
  assert.is(useProxy('kube.example.com', '6443', '.example.com'), false);
  assert.is(useProxy('kube.example.com', '6443', '*.example.com'), false);
  assert.is(useProxy('notexample.com', '6443', 'example.com'), true, 'not a suffix match on the label');
  assert.is(useProxy('kube.example.com', '6443', 'kube.example.com:6443'), false, 'host:port matches that port');
  assert.is(useProxy('kube.example.com', '6443', 'kube.example.com:443'), true, 'and only that port');
  assert.is(useProxy('10.1.2.3', '6443', '10.0.0.0/8'), false, 'IPv4 CIDR');
  assert.is(useProxy('11.1.2.3', '6443', '10.0.0.0/8'), true);
  assert.is(useProxy('fd00::5', '6443', 'fd00::/64'), false, 'IPv6 CIDR');
  assert.is(useProxy('fd01::5', '6443', 'fd00::/64'), true);
  assert.is(useProxy('10.1.2.3', '6443', '10.1.2.3'), false, 'an IP');
  assert.is(useProxy('10.1.2.3', '6443', '10.1.2.3:443'), true, 'an IP with another port');
  assert.is(useProxy('10.1.2.3', '6443', '10.0.0.0/8'.toUpperCase()), false);
  assert.is(useProxy('KUBE.example.com'.toLowerCase(), '6443', ' Example.COM , other'), false, 'entries are trimmed and lower-cased');
  assert.is(proxy({ HTTPS_PROXY: 'http://p:1', no_proxy: 'example.com' }), undefined, 'no_proxy (lower case) counts too');
});

test.run();
