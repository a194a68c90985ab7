import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, readGatewaySettings, readTrunkSettings, setting } from '@outlet/config';
import { SETTINGS, replaceSettingsTable, settingsTable } from '@outlet/contracts';
import { REPO_ROOT } from '../support/direct';

test('docs/settings.md shows the table the settings schema gives (node scripts/settings-table.js writes it)', () => {
  const page = readFileSync(join(REPO_ROOT, 'docs', 'settings.md'), 'utf8');
  assert.equal(page, replaceSettingsTable(page, settingsTable()), 'docs/settings.md differs from SETTINGS: run npm run build && node scripts/settings-table.js');
  for (const name of Object.keys(SETTINGS.properties)) assert.ok(page.includes(`| \`${name}\` |`), `${name} has a row`);
});

test('every setting has a meaning and its readers; defaults come from the schema', () => {
  for (const [name, schema] of Object.entries(SETTINGS.properties) as [string, Record<string, unknown>][]) {
    assert.ok(String(schema.description).length > 10, `${name} says what it means`);
    assert.ok(schema['x-used-by'], `${name} says who reads it`);
  }
  const gateway = readGatewaySettings({});
  assert.equal(gateway.port, SETTINGS.properties.PORT.default);
  assert.equal(gateway.maxQueued, SETTINGS.properties.OUTLET_MAX_QUEUED.default);
  assert.equal(readTrunkSettings({}, 2).replanRatio, SETTINGS.properties.OUTLET_REPLAN_RATIO.default);
});

test('a bad value names the setting and what it must be, from the schema', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: '70000' }, /^PORT='70000' must be an integer from 0 to 65535$/],
    [{ PORT: 'http' }, /^PORT='http' must be an integer from 0 to 65535$/],
    [{ OUTLET_ACCURACY_BUDGET: '0.9' }, /^OUTLET_ACCURACY_BUDGET='0.9' must be a number from 0.0001 to 0.5$/],
    [{ OUTLET_ADAPT: 'maybe' }, /^OUTLET_ADAPT='maybe' must be one of: on, off$/],
    [{ OUTLET_BODY_LIMIT: '1gb' }, /^OUTLET_BODY_LIMIT='1gb' must look like 512kb or 1mb$/],
  ];
  for (const [env, message] of cases) assert.throws(() => readGatewaySettings(env), (e: Error) => e instanceof ConfigError && message.test(e.message), message.source);
  assert.throws(() => setting({ NODE_ID: 'a b' }, 'NODE_ID'), /NODE_ID='a b' may hold only letters, digits/);
  assert.equal(setting({ OUTLET_BODY_LIMIT: ' 512KB ' }, 'OUTLET_BODY_LIMIT'), '512KB');
  assert.equal(setting({}, 'OUTLET_API_KEYS'), undefined, 'unset without a default');
});
