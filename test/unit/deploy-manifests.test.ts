import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { readGatewaySettings } from '@outlet/config';
import { inferQueueName } from '@outlet/contracts';
import { QUEUE_STATES } from '../../apps/gateway/src/metrics.service';
import { REPO_ROOT } from '../support/direct';

const DEPLOY = join(REPO_ROOT, 'deploy', 'kubernetes');
type Doc = Record<string, any>;
const docs: Doc[] = readdirSync(DEPLOY)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(DEPLOY, f), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, [], `${f} parses`);
      return d.toJSON() as Doc;
    }),
  );
const kind = (k: string, name: string) => docs.find((d) => d.kind === k && d.metadata?.name === name)!;
/** Every settings source: a name there is a setting some Outlet process reads. */
const settingsSource = ['libs/config/src/settings.ts', 'libs/config/src/env.ts', 'libs/config/src/access.ts', 'libs/transport/src/redis-target.ts']
  .map((f) => readFileSync(join(REPO_ROOT, f), 'utf8'))
  .join('\n');
const isSetting = (name: string) => new RegExp(`\\b${name}\\b`).test(settingsSource);

test('the manifests parse; every container runs an app that exists, with settings Outlet reads', () => {
  const deployments = ['outlet-gateway', 'outlet-node'].map((n) => kind('Deployment', n));
  const config = kind('ConfigMap', 'outlet-redis');
  const secret = kind('Secret', 'outlet-redis-auth');
  for (const name of [...Object.keys(config.data), ...Object.keys(secret.stringData)]) assert.ok(isSetting(name), `${name} is a setting`);
  assert.ok(config.data.REDIS_CLUSTER_NODES.split(',').every((e: string) => /^[\w.-]+:\d+$/.test(e)), 'REDIS_CLUSTER_NODES is host:port,…');
  for (const d of deployments) {
    for (const c of d.spec.template.spec.containers) {
      const [node, entry] = c.command;
      assert.equal(node, 'node');
      const app = /^dist\/apps\/([\w-]+)\/src\/main\.js$/.exec(entry)?.[1];
      assert.ok(app && existsSync(join(REPO_ROOT, 'apps', app, 'src', 'main.ts')), `${c.name} runs ${entry}`);
      for (const e of c.env ?? []) assert.ok(isSetting(e.name), `${c.name}: ${e.name} is a setting`);
      assert.deepEqual(c.envFrom.map((s: Doc) => s.configMapRef?.name ?? s.secretRef?.name).sort(), ['outlet-redis', 'outlet-redis-auth'], `${c.name} gets the Redis settings`);
    }
  }
});

test('gateway ports and probes are the gateway\'s; the Service exposes them', () => {
  const defaults = readGatewaySettings({});
  const gateway = kind('Deployment', 'outlet-gateway').spec.template.spec.containers[0];
  const port = (n: string) => gateway.ports.find((p: Doc) => p.name === n).containerPort;
  const env = Object.fromEntries(gateway.env.map((e: Doc) => [e.name, e.value]));
  assert.equal(port('http'), Number(env.PORT ?? defaults.port));
  assert.equal(port('grpc'), Number(env.OUTLET_GRPC_PORT ?? defaults.grpcPort));
  const controller = readFileSync(join(REPO_ROOT, 'apps/gateway/src/inference.controller.ts'), 'utf8');
  for (const probe of [gateway.readinessProbe, gateway.livenessProbe]) {
    assert.ok(controller.includes(`@Get('${probe.httpGet.path.replace('/v2/', '')}')`), `${probe.httpGet.path} is served`);
  }
  const service = kind('Service', 'outlet-gateway');
  assert.deepEqual(service.spec.ports.map((p: Doc) => p.targetPort).sort(), ['grpc', 'http']);
  assert.deepEqual(service.spec.selector, kind('Deployment', 'outlet-gateway').spec.template.metadata.labels);
});

test('a node pod: trunk and branch share a memory-backed feature folder and the pod\'s name as NODE_ID; the trunk drains on the way out', () => {
  const pod = kind('Deployment', 'outlet-node').spec.template.spec;
  const volume = pod.volumes.find((v: Doc) => v.emptyDir?.medium === 'Memory');
  assert.ok(volume, 'a memory-backed emptyDir');
  for (const c of pod.containers) {
    const env = Object.fromEntries(c.env.map((e: Doc) => [e.name, e]));
    assert.equal(env.NODE_ID.valueFrom.fieldRef.fieldPath, 'metadata.name');
    const mount = c.volumeMounts.find((m: Doc) => m.name === volume.name);
    assert.equal(mount.mountPath, env.OUTLET_FEATURE_DIR.value, `${c.name} mounts it at OUTLET_FEATURE_DIR`);
  }
  const trunk = pod.containers.find((c: Doc) => c.name === 'trunk-worker');
  const preStop = trunk.lifecycle.preStop.exec.command.join(' ');
  assert.match(preStop, /dist\/apps\/cli\/src\/main\.js nodes drain "\$NODE_ID" --wait --url http:\/\/outlet-gateway:3000/);
  const cli = readFileSync(join(REPO_ROOT, 'apps/cli/src/commands/nodes.ts'), 'utf8');
  assert.ok(cli.includes(".command('drain <id>')") && cli.includes("'--wait'"), 'the CLI has nodes drain --wait');
});

test('KEDA scales the node Deployment on the metric the gateway exports: waiting + prioritized tasks of the inference queues', () => {
  const scaled = kind('ScaledObject', 'outlet-node');
  assert.equal(scaled.spec.scaleTargetRef.name, 'outlet-node');
  const trigger = scaled.spec.triggers[0];
  assert.equal(trigger.type, 'prometheus');
  const query: string = trigger.metadata.query;
  const metrics = readFileSync(join(REPO_ROOT, 'apps/gateway/src/metrics.service.ts'), 'utf8');
  const metric = /^sum\((\w+)\{/.exec(query)?.[1];
  assert.ok(metric && metrics.includes(`'${metric}'`), `${metric} is a metric the gateway exports`);
  const queueRe = new RegExp(`^${/queue=~"([^"]+)"/.exec(query)![1]}$`);
  assert.ok(queueRe.test(inferQueueName('branchy-mnist')) && !queueRe.test('outlet-branch-node-1'), 'inference queues only');
  const states = /state=~"([^"]+)"/.exec(query)![1].split('|');
  assert.deepEqual(states, ['waiting', 'prioritized']);
  for (const s of states) assert.ok((QUEUE_STATES as readonly string[]).includes(s), `state ${s} is exported`);
  assert.ok(Number(trigger.metadata.threshold) > 0);
});

test('docker-compose.yml parses, and its services\' settings are settings Outlet reads', () => {
  const [compose] = parseAllDocuments(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')).map((d) => d.toJSON() as Doc);
  for (const [name, service] of Object.entries<Doc>(compose.services)) {
    for (const key of Object.keys(service.environment ?? {})) assert.ok(isSetting(key), `${name}: ${key} is a setting`);
  }
  assert.ok(compose.services['redis-cluster-init']?.profiles?.includes('cluster'), 'a cluster profile');
});
