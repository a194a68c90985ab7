"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var contracts_1 = require("@outlet/contracts");
(0, node_test_1.test)('presets expand to one placement per early exit', function () {
    strict_1.default.deepEqual((0, contracts_1.parsePlan)('serial', 2), ['trunk', 'trunk']);
    strict_1.default.deepEqual((0, contracts_1.parsePlan)('parallel', 3), ['branch', 'branch', 'branch']);
    strict_1.default.deepEqual((0, contracts_1.parsePlan)('full', 2), ['skip', 'skip']);
});
(0, node_test_1.test)('a comma list is taken as written, spaces allowed', function () {
    strict_1.default.deepEqual((0, contracts_1.parsePlan)('branch, trunk,skip', 3), ['branch', 'trunk', 'skip']);
    strict_1.default.equal((0, contracts_1.formatPlan)(['branch', 'skip']), 'branch,skip');
});
(0, node_test_1.test)('unknown placements and wrong lengths are refused with the reason', function () {
    strict_1.default.throws(function () { return (0, contracts_1.parsePlan)('branch,gpu', 2); }, function (e) { return e instanceof contracts_1.PlanError && /unknown plan or placement 'gpu'/.test(e.message); });
    strict_1.default.throws(function () { return (0, contracts_1.parsePlan)('fastest', 2); }, /unknown plan or placement 'fastest'/);
    strict_1.default.throws(function () { return (0, contracts_1.parsePlan)('branch', 2); }, /has 1 placement\(s\) but the model has 2 early exit\(s\)/);
    strict_1.default.throws(function () { return (0, contracts_1.parsePlan)('', 2); }, /unknown plan or placement ''/);
});
