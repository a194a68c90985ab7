import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { OutletSystem } from '@outlet/supervisor';
import { MODELS_DIR, REPO_ROOT } from '../support/direct';
import { get, post, request } from '../support/http';

const MODEL = 'branchy-mnist';

/** Every route the gateway's controllers serve (OpenAPI path templates), by method. */
const ROUTES: Record<string, string[]> = {
  '/v2': ['get'],
  '/v2/health/live': ['get'],
  '/v2/health/ready': ['get'],
  '/v2/models/{name}': ['get'],
  '/v2/models/{name}/ready': ['get'],
  '/v2/models/{name}/infer': ['post'],
  '/v2/models/{name}/versions/{version}/infer': ['post'],
  '/v2/models/stats': ['get'],
  '/v2/models/{name}/stats': ['get'],
  '/v2/models/{name}/versions/{version}/stats': ['get'],
  '/v2/models/{name}/config': ['get'],
  '/v2/models/{name}/versions/{version}/config': ['get'],
  '/v1/jobs': ['post'],
  '/v1/jobs/{id}': ['get'],
  '/v1/models/{name}/plan': ['get'],
  '/v1/models/{name}/thresholds': ['get'],
  '/metrics': ['get'],
  '/v2/repository/index': ['post'],
  '/v1/nodes': ['get'],
  '/v1/nodes/{id}': ['get'],
  '/v1/nodes/{id}/drain': ['post'],
};

type Schema = Record<string, any>;

// The document's schemas, checked by an Ajv of the test's own (its OpenAPI keywords: `nullable`;
// annotations such as `x-error` and `example` are not Ajv's, hence strict off).
const ajv = new Ajv({ strict: false, allErrors: true });

/** The errors found in `value` against `schema` (a `$ref` into the document), each with its JSON path; none means valid. */
function check(doc: any, schema: Schema, value: unknown): string[] {
  const validate = ajv.compile({ ...schema, components: doc.components });
  return validate(value) ? [] : validate.errors!.map((e) => `$${e.instancePath}: ${e.message}`);
}

describe('OpenAPI document at /docs-json, Swagger UI at /docs', () => {
  let system: OutletSystem;
  let doc: any;
  const digit7 = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'digit-7.json'), 'utf8'));

  before(async () => {
    system = await OutletSystem.start({
      quiet: true,
      env: { OUTLET_MODELS_DIR: MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
      nodes: [{ nodeId: 'edge-docs' }],
    });
    const res = await get(`${system.baseUrl}/docs-json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    doc = res.body;
  });

  after(async () => {
    await system?.stop();
  });

  test('is an OpenAPI 3 document with every route the gateway serves, and no other', () => {
    assert.match(String(doc.openapi), /^3\.\d+\.\d+$/);
    assert.equal(typeof doc.info?.title, 'string');
    assert.equal(typeof doc.info?.version, 'string');
    const documented = Object.fromEntries(
      Object.entries<Record<string, unknown>>(doc.paths).map(([path, item]) => [path, Object.keys(item).filter((k) => ['get', 'post', 'put', 'delete', 'patch', 'head'].includes(k)).sort()]),
    );
    assert.deepEqual(documented, ROUTES);
  });

  test('every operation declares its path parameters, a 2xx response and its 4xx errors as {"error"}', () => {
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name).sort();
        assert.deepEqual(declared, inPath, `${where}: path parameters`);
        for (const p of op.parameters ?? []) assert.ok(p.schema?.type, `${where}: parameter ${p.name} has a type`);
        assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${where}: summary`);
        const statuses = Object.keys(op.responses ?? {});
        assert.ok(statuses.some((s) => /^2\d\d$/.test(s)), `${where}: a 2xx response (${statuses.join(', ')})`);
        for (const s of statuses.filter((s) => /^[45]\d\d$/.test(s))) {
          const schema = op.responses[s].content?.['application/json']?.schema;
          assert.deepEqual(schema, { $ref: '#/components/schemas/Error' }, `${where} ${s}: the {"error"} schema`);
        }
        if (inPath.includes('name') || path === '/v1/jobs') assert.ok(statuses.includes('404'), `${where}: 404 for an unknown model`);
      }
    }
    assert.deepEqual(doc.components.schemas.Error.required, ['error']);
    assert.deepEqual(check(doc, { $ref: '#/components/schemas/Error' }, { error: 'x' }), []);
    // The plan route's query parameters.
    const plan = doc.paths['/v1/models/{name}/plan'].get.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name).sort();
    assert.deepEqual(plan, ['cpu_util', 'trunk_ep']);
  });

  test('every documented route is served (not Nest\'s "Cannot GET")', async () => {
    for (const [path, methods] of Object.entries(ROUTES)) {
      const url = system.baseUrl + path.replace('{name}', MODEL).replace('{version}', '1').replace('{id}', 'no-such-job');
      for (const method of methods) {
        const res = await request(method.toUpperCase(), url, method === 'post' ? {} : undefined);
        const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
        assert.doesNotMatch(text, /Cannot (GET|POST)/, `${method} ${path}`);
        assert.ok(res.status < 500 || res.status === 503, `${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
      }
    }
  });

  test('the infer operation: inputs (name/shape/datatype/data) and parameters (plan, threshold 0..1); binary extension described', () => {
    for (const path of ['/v2/models/{name}/infer', '/v2/models/{name}/versions/{version}/infer']) {
      const op = doc.paths[path].post;
      assert.deepEqual(op.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/InferRequest' });
      assert.deepEqual(
        [op.requestBody.content['application/octet-stream']?.schema?.type, op.requestBody.content['application/octet-stream']?.schema?.format],
        ['string', 'binary'],
        'consumes application/octet-stream (bytes)',
      );
      assert.equal(op.responses['200'].content['application/octet-stream']?.schema?.format, 'binary', 'may answer application/octet-stream');
      assert.ok(op.parameters.find((p: any) => p.name === 'name').schema.enum.includes(MODEL), 'the name is one of the served models');
      assert.match(op.description, /Inference-Header-Content-Length/);
      assert.match(op.description, /binary_data_size/);
      assert.match(op.description, /application\/octet-stream/);
      assert.ok(op.parameters.some((p: any) => p.in === 'header' && p.name === 'Inference-Header-Content-Length'), 'the header is a parameter');
      for (const s of ['400', '404', '413', '415', '504']) assert.ok(op.responses[s], `${path} documents ${s}`);
      assert.ok(op.responses['200'].headers?.['Inference-Header-Content-Length'], 'the response header');
    }
    const schemas = doc.components.schemas;
    const req = schemas.InferRequest;
    assert.deepEqual(req.required, ['inputs']);
    assert.equal(req.properties.inputs.type, 'array');
    const tensor = req.properties.inputs.items;
    assert.deepEqual(Object.keys(tensor.properties).filter((k) => k !== 'parameters'), ['name', 'shape', 'datatype', 'data']);
    assert.deepEqual(tensor.required, ['name', 'shape', 'datatype']);
    const params = req.properties.parameters.properties;
    assert.equal(params.plan.type, 'string');
    for (const plan of ['serial', 'parallel', 'full', 'auto', 'branch, trunk']) assert.match(plan, new RegExp(params.plan.pattern));
    assert.doesNotMatch('bogus', new RegExp(params.plan.pattern));
    assert.equal(params.threshold.type, 'number');
    assert.equal(params.threshold.minimum, 0);
    assert.equal(params.threshold.maximum, 1);
  });

  test('examples/digit-7.json and job-digit-7.json validate against the documented schemas', () => {
    assert.deepEqual(check(doc, { $ref: '#/components/schemas/InferRequest' }, digit7), []);
    const job = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'job-digit-7.json'), 'utf8'));
    assert.deepEqual(check(doc, { $ref: '#/components/schemas/JobRequest' }, job), []);
    // The check does refuse: no inputs, a tensor without a datatype.
    assert.ok(check(doc, { $ref: '#/components/schemas/InferRequest' }, { id: 'x' }).some((e) => /required property 'inputs'/.test(e)));
    const { datatype: _d, ...noType } = digit7.inputs[0];
    assert.ok(check(doc, { $ref: '#/components/schemas/InferRequest' }, { inputs: [noType] }).some((e) => /required property 'datatype'/.test(e)));
  });

  test('where the schema refuses a body, the gateway answers 400 {"error"}; where it accepts, 200', async () => {
    const tensor = digit7.inputs[0];
    const cases: [string, unknown][] = [
      ['digit-7.json', digit7],
      ['plan parallel, threshold 0.5', { inputs: [tensor], parameters: { plan: 'parallel', threshold: 0.5 } }],
      ['plan as a comma list', { inputs: [tensor], parameters: { plan: 'branch, trunk' } }],
      ['threshold 1.5', { inputs: [tensor], parameters: { threshold: 1.5 } }],
      ['threshold as a string', { inputs: [tensor], parameters: { threshold: '0.5' } }],
      ['plan "bogus"', { inputs: [tensor], parameters: { plan: 'bogus' } }],
      ['plan a number', { inputs: [tensor], parameters: { plan: 3 } }],
      ['no inputs', { id: 'x' }],
      ['empty inputs', { inputs: [] }],
      ['two inputs', { inputs: [tensor, tensor] }],
      ['no datatype', { inputs: [{ name: tensor.name, shape: tensor.shape, data: tensor.data }] }],
      ['datatype INT32', { inputs: [{ ...tensor, datatype: 'INT32' }] }],
      ['negative dimension', { inputs: [{ ...tensor, shape: [-1, 1, 28, 28] }] }],
      ['id too long', { id: 'x'.repeat(257), inputs: [tensor] }],
      ['outputs without a name', { inputs: [tensor], outputs: [{}] }],
      ['binary_data not boolean', { inputs: [tensor], outputs: [{ name: 'probabilities', parameters: { binary_data: 'yes' } }] }],
      ['binary_data false', { inputs: [tensor], outputs: [{ name: 'probabilities', parameters: { binary_data: false } }] }],
    ];
    for (const [what, body] of cases) {
      const errors = check(doc, { $ref: '#/components/schemas/InferRequest' }, body);
      const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, body);
      if (errors.length === 0) {
        assert.equal(res.status, 200, `${what}: the schema accepts it, the gateway answered ${res.status} ${JSON.stringify(res.body)}`);
        assert.deepEqual(check(doc, { $ref: '#/components/schemas/InferResponse' }, res.body), [], `${what}: the response fits InferResponse`);
      } else {
        assert.equal(res.status, 400, `${what}: the schema refuses it (${errors[0]}), the gateway answered ${res.status}`);
        assert.deepEqual(check(doc, { $ref: '#/components/schemas/Error' }, res.body), [], `${what}: {"error"}`);
      }
    }
    // What the schema leaves to the model: the values (checked as they are copied into FP32, the
    // fault named with its index) and anything that depends on the model's input, exits or outputs.
    const beyondTheSchema: [string, unknown, RegExp][] = [
      ['data not numbers', { inputs: [{ ...tensor, data: tensor.data.map(String) }] }, /value at index 0 is "0", not a finite number/],
      ['one placement too many', { inputs: [tensor], parameters: { plan: 'branch,branch,branch,branch' } }, /has 4 placement\(s\) but the model has 2 early exit\(s\)/],
      ['an unknown input', { inputs: [{ ...tensor, name: 'image' }] }, /unknown input 'image'/],
    ];
    for (const [what, body, message] of beyondTheSchema) {
      assert.deepEqual(check(doc, { $ref: '#/components/schemas/InferRequest' }, body), [], `${what}: the schema accepts it`);
      const res = await post(`${system.baseUrl}/v2/models/${MODEL}/infer`, body);
      assert.equal(res.status, 400, what);
      assert.match(res.body.error, message, what);
    }
  });

  test('GET /docs answers the Swagger UI page (HTML)', async () => {
    const res = await fetch(`${system.baseUrl}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /<html/i);
    assert.match(html, /swagger/i);
  });
});
