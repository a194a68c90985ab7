"use strict";
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
var __generator = (this && this.__generator) || function (thisArg, body) {
    var _ = { label: 0, sent: function() { if (t[0] & 1) throw t[1]; return t[1]; }, trys: [], ops: [] }, f, y, t, g = Object.create((typeof Iterator === "function" ? Iterator : Object).prototype);
    return g.next = verb(0), g["throw"] = verb(1), g["return"] = verb(2), typeof Symbol === "function" && (g[Symbol.iterator] = function() { return this; }), g;
    function verb(n) { return function (v) { return step([n, v]); }; }
    function step(op) {
        if (f) throw new TypeError("Generator is already executing.");
        while (g && (g = 0, op[0] && (_ = 0)), _) try {
            if (f = 1, y && (t = op[0] & 2 ? y["return"] : op[0] ? y["throw"] || ((t = y["return"]) && t.call(y), 0) : y.next) && !(t = t.call(y, op[1])).done) return t;
            if (y = 0, t) op = [op[0] & 2, t.value];
            switch (op[0]) {
                case 0: case 1: t = op; break;
                case 4: _.label++; return { value: op[1], done: false };
                case 5: _.label++; y = op[1]; op = [0]; continue;
                case 7: op = _.ops.pop(); _.trys.pop(); continue;
                default:
                    if (!(t = _.trys, t = t.length > 0 && t[t.length - 1]) && (op[0] === 6 || op[0] === 2)) { _ = 0; continue; }
                    if (op[0] === 3 && (!t || (op[1] > t[0] && op[1] < t[3]))) { _.label = op[1]; break; }
                    if (op[0] === 6 && _.label < t[1]) { _.label = t[1]; t = op; break; }
                    if (t && _.label < t[2]) { _.label = t[2]; _.ops.push(op); break; }
                    if (t[2]) _.ops.pop();
                    _.trys.pop(); continue;
            }
            op = body.call(thisArg, _);
        } catch (e) { op = [6, e]; y = 0; } finally { f = t = 0; }
        if (op[0] & 5) throw op[1]; return { value: op[0] ? op[1] : void 0, done: true };
    }
};
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var bullmq_1 = require("bullmq");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
var supervisor_1 = require("@outlet/supervisor");
var digits_1 = require("../support/digits");
var direct_1 = require("../support/direct");
var http_1 = require("../support/http");
(0, node_test_1.describe)('a fleet of two nodes', function () {
    var system;
    (0, node_test_1.before)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, supervisor_1.OutletSystem.start({
                        quiet: true,
                        env: { OUTLET_MODELS_DIR: direct_1.MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
                        nodes: [{ nodeId: 'node-a' }, { nodeId: 'node-b' }],
                    })];
                case 1:
                    system = _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.after)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, (system === null || system === void 0 ? void 0 : system.stop())];
                case 1:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('both nodes serve concurrent requests; every branch subjob runs on the node of its trunk job', function () { return __awaiter(void 0, void 0, void 0, function () {
        var digits, answers, servedBy, subjobs, _i, _a, nodeId, queue, _b, _c, job, record;
        return __generator(this, function (_d) {
            switch (_d.label) {
                case 0:
                    digits = Array.from({ length: 48 }, function (_, i) { return (0, digits_1.heldOutDigit)(i % 10, Math.floor(i / 10)); });
                    return [4 /*yield*/, Promise.all(digits.map(function (pixels) { return (0, http_1.post)("".concat(system.baseUrl, "/v2/models/branchy-mnist/infer"), (0, digits_1.inferBody)(pixels, { plan: 'parallel' })); }))];
                case 1:
                    answers = _d.sent();
                    answers.forEach(function (a) { return strict_1.default.equal(a.status, 200, JSON.stringify(a.body)); });
                    servedBy = new Set(answers.map(function (a) { return a.body.parameters.node_id; }));
                    strict_1.default.deepEqual(__spreadArray([], servedBy, true).sort(), ['node-a', 'node-b'], 'both trunk workers took tasks');
                    subjobs = 0;
                    _i = 0, _a = ['node-a', 'node-b'];
                    _d.label = 2;
                case 2:
                    if (!(_i < _a.length)) return [3 /*break*/, 11];
                    nodeId = _a[_i];
                    queue = new bullmq_1.Queue((0, contracts_1.branchQueueName)(nodeId), { connection: (0, config_1.bullConnection)(system.redisUrl) });
                    _d.label = 3;
                case 3:
                    _d.trys.push([3, , 8, 10]);
                    _b = 0;
                    return [4 /*yield*/, queue.getJobs(['completed'], 0, 1000)];
                case 4:
                    _c = _d.sent();
                    _d.label = 5;
                case 5:
                    if (!(_b < _c.length)) return [3 /*break*/, 7];
                    job = _c[_b];
                    record = job.returnvalue;
                    strict_1.default.equal(job.data.trunkNodeId, nodeId, 'subjob queued on its trunk node');
                    strict_1.default.equal(record.nodeId, nodeId, 'subjob run by that node\'s branch worker');
                    subjobs++;
                    _d.label = 6;
                case 6:
                    _b++;
                    return [3 /*break*/, 5];
                case 7: return [3 /*break*/, 10];
                case 8: return [4 /*yield*/, queue.close()];
                case 9:
                    _d.sent();
                    return [7 /*endfinally*/];
                case 10:
                    _i++;
                    return [3 /*break*/, 2];
                case 11:
                    strict_1.default.ok(subjobs > 0, 'branch subjobs ran');
                    return [2 /*return*/];
            }
        });
    }); });
});
(0, node_test_1.describe)('SIGTERM under load', function () {
    var system;
    (0, node_test_1.before)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, supervisor_1.OutletSystem.start({
                        quiet: true,
                        env: { OUTLET_MODELS_DIR: direct_1.FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
                        nodes: [{ nodeId: 'node-a' }, { nodeId: 'node-b' }],
                    })];
                case 1:
                    system = _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.after)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, (system === null || system === void 0 ? void 0 : system.stop())];
                case 1:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('a trunk worker stopped during load finishes its task, exits cleanly, and no accepted task is lost', function () { return __awaiter(void 0, void 0, void 0, function () {
        var body, ids, i, res, nodeA, code, results, failed, byNode;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    body = { model: 'slow-exit', inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.2) }], parameters: { plan: 'full' } };
                    ids = [];
                    i = 0;
                    _a.label = 1;
                case 1:
                    if (!(i < 24)) return [3 /*break*/, 4];
                    return [4 /*yield*/, (0, http_1.post)("".concat(system.baseUrl, "/v1/jobs"), body)];
                case 2:
                    res = _a.sent();
                    strict_1.default.equal(res.status, 202);
                    ids.push(res.body.id);
                    _a.label = 3;
                case 3:
                    i++;
                    return [3 /*break*/, 1];
                case 4: 
                // Each task runs ~200 ms: stop node-a's trunk once the first task has finished (mid-load).
                return [4 /*yield*/, (0, http_1.waitForJob)(system.baseUrl, ids[0])];
                case 5:
                    // Each task runs ~200 ms: stop node-a's trunk once the first task has finished (mid-load).
                    _a.sent();
                    nodeA = system.nodes.find(function (n) { return n.nodeId === 'node-a'; });
                    return [4 /*yield*/, nodeA.trunk.stop('SIGTERM')];
                case 6:
                    code = _a.sent();
                    strict_1.default.equal(code, 0, "trunk worker exit code ".concat(code, ":\n").concat(nodeA.trunk.lines().slice(-5).join('\n')));
                    return [4 /*yield*/, Promise.all(ids.map(function (id) { return (0, http_1.waitForJob)(system.baseUrl, id, 60000); }))];
                case 7:
                    results = _a.sent();
                    failed = results.filter(function (r) { return r.state !== 'completed'; });
                    strict_1.default.deepEqual(failed, [], 'every accepted task completed');
                    byNode = new Set(results.map(function (r) { return r.result.parameters.node_id; }));
                    strict_1.default.ok(byNode.has('node-b'), 'node-b took over');
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('a branch worker stopped during load loses no task either (the final exit answers)', function () { return __awaiter(void 0, void 0, void 0, function () {
        var body, ids, i, _a, _b, nodeB, _c, _d, results;
        return __generator(this, function (_e) {
            switch (_e.label) {
                case 0:
                    body = { model: 'slow-exit', inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.3) }], parameters: { plan: 'parallel' } };
                    ids = [];
                    i = 0;
                    _e.label = 1;
                case 1:
                    if (!(i < 12)) return [3 /*break*/, 4];
                    _b = (_a = ids).push;
                    return [4 /*yield*/, (0, http_1.post)("".concat(system.baseUrl, "/v1/jobs"), body)];
                case 2:
                    _b.apply(_a, [(_e.sent()).body.id]);
                    _e.label = 3;
                case 3:
                    i++;
                    return [3 /*break*/, 1];
                case 4: return [4 /*yield*/, (0, http_1.waitForJob)(system.baseUrl, ids[0])];
                case 5:
                    _e.sent();
                    nodeB = system.nodes.find(function (n) { return n.nodeId === 'node-b'; });
                    _d = (_c = strict_1.default).equal;
                    return [4 /*yield*/, nodeB.branch.stop('SIGTERM')];
                case 6:
                    _d.apply(_c, [_e.sent(), 0]);
                    return [4 /*yield*/, Promise.all(ids.map(function (id) { return (0, http_1.waitForJob)(system.baseUrl, id, 60000); }))];
                case 7:
                    results = _e.sent();
                    strict_1.default.deepEqual(results.filter(function (r) { return r.state !== 'completed'; }), []);
                    return [2 /*return*/];
            }
        });
    }); });
});
