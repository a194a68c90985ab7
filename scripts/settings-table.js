#!/usr/bin/env node
// Writes the settings table of docs/settings.md from the settings' schema (SETTINGS in
// libs/contracts), between its two marker lines. test/unit/settings-table.test.ts fails while the
// page and the schema differ. Run after `npm run build`: node scripts/settings-table.js
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { settingsTable, SETTINGS_TABLE_MARKERS, replaceSettingsTable } = require('../dist/libs/contracts/src');

const page = join(__dirname, '..', 'docs', 'settings.md');
const before = readFileSync(page, 'utf8');
const after = replaceSettingsTable(before, settingsTable());
if (after === before) console.log(`docs/settings.md: the table already matches the schema`);
else {
  writeFileSync(page, after);
  console.log(`docs/settings.md: table written between ${SETTINGS_TABLE_MARKERS.join(' and ')}`);
}
