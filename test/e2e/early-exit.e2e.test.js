"use strict";
var __assign = (this && this.__assign) || function () {
    __assign = Object.assign || function(t) {
        for (var s, i = 1, n = arguments.length; i < n; i++) {
            s = arguments[i];
            for (var p in s) if (Object.prototype.hasOwnProperty.call(s, p))
                t[p] = s[p];
        }
        return t;
    };
    return __assign.apply(this, arguments);
};
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
Object.defineProperty(exports, "__esModule", { value: true });
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var bullmq_1 = require("bullmq");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
var supervisor_1 = require("@outlet/supervisor");
var direct_1 = require("../support/direct");
var http_1 = require("../support/http");
/** Fixture models: slow-exit (5 slow segments, exit 0 always confident), slow-head (fast trunk, slow heads). */
var input = { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.5) }] };
(0, node_test_1.describe)('early exit across processes', function () {
    var system;
    var infer;
    var branch;
    (0, node_test_1.before)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, supervisor_1.OutletSystem.start({
                        quiet: true,
                        env: { OUTLET_MODELS_DIR: direct_1.FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
                        nodes: [{ nodeId: 'edge-x' }],
                    })];
                case 1:
                    system = _a.sent();
                    infer = new bullmq_1.Queue((0, contracts_1.inferQueueName)('slow-exit'), { connection: (0, config_1.bullConnection)(system.redisUrl) });
                    branch = new bullmq_1.Queue((0, contracts_1.branchQueueName)('edge-x'), { connection: (0, config_1.bullConnection)(system.redisUrl) });
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.after)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, (infer === null || infer === void 0 ? void 0 : infer.close())];
                case 1:
                    _a.sent();
                    return [4 /*yield*/, (branch === null || branch === void 0 ? void 0 : branch.close())];
                case 2:
                    _a.sent();
                    return [4 /*yield*/, (system === null || system === void 0 ? void 0 : system.stop())];
                case 3:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    var run = function (model, plan) { return __awaiter(void 0, void 0, void 0, function () {
        var res;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, (0, http_1.post)("".concat(system.baseUrl, "/v2/models/").concat(model, "/infer"), __assign(__assign({}, input), { parameters: { plan: plan } }))];
                case 1:
                    res = _a.sent();
                    strict_1.default.equal(res.status, 200, JSON.stringify(res.body));
                    return [2 /*return*/, res.body.parameters];
            }
        });
    }); };
    (0, node_test_1.test)('parallel: a confident branch head stops the trunk; later segments never run', function () { return __awaiter(void 0, void 0, void 0, function () {
        var i, p, jobs, _i, jobs_1, job, record, _a, _b, later;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0:
                    i = 0;
                    _c.label = 1;
                case 1:
                    if (!(i < 3)) return [3 /*break*/, 4];
                    return [4 /*yield*/, run('slow-exit', 'parallel')];
                case 2:
                    p = _c.sent();
                    strict_1.default.equal(p.exit_index, 0);
                    strict_1.default.equal(p.exit_worker, 'branch');
                    strict_1.default.ok(p.trunk_segments_run <= 2, "trunk ran ".concat(p.trunk_segments_run, " of 5 segments"));
                    _c.label = 3;
                case 3:
                    i++;
                    return [3 /*break*/, 1];
                case 4: return [4 /*yield*/, infer.getJobs(['completed'], 0, 2)];
                case 5:
                    jobs = _c.sent();
                    strict_1.default.equal(jobs.length, 3);
                    for (_i = 0, jobs_1 = jobs; _i < jobs_1.length; _i++) {
                        job = jobs_1[_i];
                        record = job.returnvalue;
                        strict_1.default.equal(record.exitWorker, 'branch');
                        strict_1.default.ok(record.segmentsRan.length <= 2);
                        for (_a = 0, _b = [2, 3, 4]; _a < _b.length; _a++) {
                            later = _b[_a];
                            strict_1.default.ok(!record.segmentsRan.includes(later), "segment ".concat(later, " ran"));
                        }
                        strict_1.default.ok(record.trunkStoppedAt >= record.decidedAt);
                    }
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('serial: the first confident exit answers inline after one segment', function () { return __awaiter(void 0, void 0, void 0, function () {
        var p;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, run('slow-exit', 'serial')];
                case 1:
                    p = _a.sent();
                    strict_1.default.equal(p.exit_index, 0);
                    strict_1.default.equal(p.exit_worker, 'trunk');
                    strict_1.default.equal(p.trunk_segments_run, 1);
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('full: the original network answers from the final exit', function () { return __awaiter(void 0, void 0, void 0, function () {
        var p;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, run('slow-exit', 'full')];
                case 1:
                    p = _a.sent();
                    strict_1.default.equal(p.exit_index, 4);
                    strict_1.default.equal(p.exit_worker, 'trunk');
                    strict_1.default.equal(p.trunk_segments_run, 5);
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('when the trunk reaches the final exit first, the pending branch subjobs are dropped', function () { return __awaiter(void 0, void 0, void 0, function () {
        var p, taskJobs, jobs, deadline, byExit;
        var _a, _b;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0: return [4 /*yield*/, run('slow-head', 'parallel')];
                case 1:
                    p = _c.sent();
                    strict_1.default.equal(p.exit_index, 2, 'the fast trunk answers from the final exit');
                    strict_1.default.equal(p.exit_worker, 'trunk');
                    taskJobs = function () { return __awaiter(void 0, void 0, void 0, function () {
                        var jobs;
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0: return [4 /*yield*/, branch.getJobs(['completed', 'failed', 'active', 'waiting'], 0, 50)];
                                case 1:
                                    jobs = _a.sent();
                                    return [2 /*return*/, jobs.filter(function (j) { return j.data.model === 'slow-head'; })];
                            }
                        });
                    }); };
                    return [4 /*yield*/, taskJobs()];
                case 2:
                    jobs = _c.sent();
                    deadline = Date.now() + 10000;
                    _c.label = 3;
                case 3:
                    if (!((jobs.length < 2 || jobs.some(function (j) { return !j.returnvalue; })) && Date.now() < deadline)) return [3 /*break*/, 6];
                    return [4 /*yield*/, new Promise(function (r) { return setTimeout(r, 20); })];
                case 4:
                    _c.sent();
                    return [4 /*yield*/, taskJobs()];
                case 5:
                    jobs = _c.sent();
                    return [3 /*break*/, 3];
                case 6:
                    byExit = new Map(jobs.map(function (j) { return [j.data.exitIndex, j.returnvalue]; }));
                    strict_1.default.equal((_a = byExit.get(1)) === null || _a === void 0 ? void 0 : _a.outcome, 'dropped', 'the head after segment 1 never ran');
                    strict_1.default.equal((_b = byExit.get(1)) === null || _b === void 0 ? void 0 : _b.headMs, undefined);
                    return [2 /*return*/];
            }
        });
    }); });
});
