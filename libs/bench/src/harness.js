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
exports.BenchHarness = exports.STRATEGIES = void 0;
exports.allPlans = allPlans;
var node_os_1 = require("node:os");
var node_path_1 = require("node:path");
var bullmq_1 = require("bullmq");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
var model_package_1 = require("@outlet/model-package");
var profiler_1 = require("@outlet/profiler");
var supervisor_1 = require("@outlet/supervisor");
var http_driver_1 = require("./http-driver");
var in_process_1 = require("./in-process");
var request_set_1 = require("./request-set");
var stats_1 = require("./stats");
exports.STRATEGIES = ['full', 'serial', 'parallel', 'auto', 'oracle'];
function summarize(pattern, run, exitCount) {
    var _a;
    var s = run.samples;
    var exits = new Array(exitCount).fill(0);
    var plans = {};
    for (var _i = 0, s_1 = s; _i < s_1.length; _i++) {
        var x = s_1[_i];
        exits[x.exitIndex]++;
        plans[x.plan] = ((_a = plans[x.plan]) !== null && _a !== void 0 ? _a : 0) + 1;
    }
    return {
        pattern: pattern,
        latency: (0, stats_1.latencyStats)(s.map(function (x) { return x.latencyMs; })),
        throughputPerS: (s.length / run.wallMs) * 1000,
        accuracy: s.filter(function (x) { return x.correct; }).length / Math.max(1, s.length),
        exits: exits,
        wastedSegmentsMean: s.reduce(function (a, x) { var _a; return a + ((_a = x.wastedSegments) !== null && _a !== void 0 ? _a : 0); }, 0) / Math.max(1, s.length),
        plans: plans,
        errors: run.errors.length,
    };
}
/** Every fixed plan: 3^n placements of the n early exits. */
function allPlans(earlyExits) {
    var plans = [[]];
    for (var i = 0; i < earlyExits; i++)
        plans = plans.flatMap(function (p) { return ['branch', 'trunk', 'skip'].map(function (x) { return __spreadArray(__spreadArray([], p, true), [x], false); }); });
    return plans;
}
function mostCommon(record) {
    var _a, _b;
    return (_b = (_a = Object.entries(record).sort(function (a, b) { return b[1] - a[1]; })[0]) === null || _a === void 0 ? void 0 : _a[0]) !== null && _b !== void 0 ? _b : '';
}
var BenchHarness = /** @class */ (function () {
    function BenchHarness(options) {
        this.options = options;
        this.pkg = (0, model_package_1.loadModelPackage)((0, node_path_1.join)(options.modelsDir, options.model));
        this.requests = (0, request_set_1.heldOutRequests)(this.pkg.manifest, Math.max(options.requests, options.oracleRequests));
    }
    BenchHarness.prototype.run = function () {
        return __awaiter(this, void 0, void 0, function () {
            var o, m, system, load, inferQueue, branchQueue, inProcess, scenarios, _i, _a, scenario, _b, _c;
            var _d, _e, _f;
            return __generator(this, function (_g) {
                switch (_g.label) {
                    case 0:
                        o = this.options;
                        m = this.pkg.manifest;
                        o.log("starting Redis, gateway and one node (trunk on cores ".concat((_d = o.trunkCpus) !== null && _d !== void 0 ? _d : 'any', ", branch on ").concat((_e = o.branchCpus) !== null && _e !== void 0 ? _e : 'any', ", ").concat(o.threads, " thread(s) each, trunk ep ").concat(o.trunkEp, ")"));
                        return [4 /*yield*/, supervisor_1.OutletSystem.start({
                                quiet: true,
                                env: { OUTLET_MODELS_DIR: o.modelsDir, OUTLET_JOB_RETENTION: '100000' },
                                gatewayEnv: { OUTLET_DEFAULT_PLAN: 'auto', OUTLET_BODY_LIMIT: '4mb' },
                                nodes: [
                                    {
                                        nodeId: 'bench-node',
                                        trunkCpus: o.trunkCpus,
                                        branchCpus: o.branchCpus,
                                        trunkEnv: { OUTLET_TRUNK_EP: o.trunkEp, OUTLET_TRUNK_THREADS: String(o.threads) },
                                        branchEnv: { OUTLET_BRANCH_THREADS: String(o.threads) },
                                    },
                                ],
                            })];
                    case 1:
                        system = _g.sent();
                        load = new profiler_1.LoadGenerator();
                        inferQueue = new bullmq_1.Queue((0, contracts_1.inferQueueName)(m.name), { connection: (0, config_1.bullConnection)(system.redisUrl) });
                        branchQueue = new bullmq_1.Queue((0, contracts_1.branchQueueName)('bench-node'), { connection: (0, config_1.bullConnection)(system.redisUrl) });
                        return [4 /*yield*/, in_process_1.InProcessRunner.open(this.pkg, o.trunkEp === 'auto' ? 'cpu' : o.trunkEp, o.threads)];
                    case 2:
                        inProcess = _g.sent();
                        _g.label = 3;
                    case 3:
                        _g.trys.push([3, , 8, 14]);
                        scenarios = [];
                        _i = 0, _a = o.scenarios;
                        _g.label = 4;
                    case 4:
                        if (!(_i < _a.length)) return [3 /*break*/, 7];
                        scenario = _a[_i];
                        _c = (_b = scenarios).push;
                        return [4 /*yield*/, this.scenario(system, load, inferQueue, branchQueue, inProcess, scenario)];
                    case 5:
                        _c.apply(_b, [_g.sent()]);
                        _g.label = 6;
                    case 6:
                        _i++;
                        return [3 /*break*/, 4];
                    case 7: return [2 /*return*/, { model: m.name, modelVersion: m.version, machine: { hostname: (0, node_os_1.hostname)(), cpus: (0, node_os_1.cpus)().length, cpuModel: (_f = (0, node_os_1.cpus)()[0]) === null || _f === void 0 ? void 0 : _f.model }, options: __assign(__assign({}, o), { log: undefined }), scenarios: scenarios }];
                    case 8: return [4 /*yield*/, load.stopAndWait()];
                    case 9:
                        _g.sent();
                        return [4 /*yield*/, inProcess.close()];
                    case 10:
                        _g.sent();
                        return [4 /*yield*/, inferQueue.close()];
                    case 11:
                        _g.sent();
                        return [4 /*yield*/, branchQueue.close()];
                    case 12:
                        _g.sent();
                        return [4 /*yield*/, system.stop()];
                    case 13:
                        _g.sent();
                        return [7 /*endfinally*/];
                    case 14: return [2 /*return*/];
                }
            });
        });
    };
    BenchHarness.prototype.url = function (system) {
        return "".concat(system.baseUrl, "/v2/models/").concat(this.pkg.manifest.name, "/infer");
    };
    BenchHarness.prototype.bodies = function (count, plan) {
        var m = this.pkg.manifest;
        var set = this.requests.slice(0, count);
        return { bodies: (0, http_driver_1.encodeBodies)(set, __spreadArray([1], m.input.shape.slice(1), true), m.input.name, { plan: plan }), labels: set.map(function (r) { return r.label; }) };
    };
    BenchHarness.prototype.scenario = function (system, load, inferQueue, branchQueue, inProcess, scenario) {
        return __awaiter(this, void 0, void 0, function () {
            var o, m, exitCount, url, measuredLoad, _i, _a, plan, w, searched, _b, _c, plan, _d, bodies, labels, run, oraclePlan, strategies, openRate, taskIds, _e, STRATEGIES_1, strategy, planParam, _f, bodies, labels, runs, latenciesC1, c1Samples, _g, _h, c, run, open_1, plan, direct, _j, _k, r, _l, _m, inProc, c1, abort, handoff;
            return __generator(this, function (_o) {
                switch (_o.label) {
                    case 0:
                        o = this.options;
                        m = this.pkg.manifest;
                        exitCount = m.exits.length;
                        url = this.url(system);
                        return [4 /*yield*/, load.stopAndWait()];
                    case 1:
                        _o.sent();
                        if (scenario.backgroundLoad > 0)
                            load.start(scenario.backgroundLoad);
                        return [4 /*yield*/, (0, profiler_1.measureUtilization)(2000)];
                    case 2:
                        measuredLoad = _o.sent();
                        o.log("scenario ".concat(scenario.name, ": background load ").concat(Math.round(scenario.backgroundLoad * 100), " %, measured ").concat(Math.round(measuredLoad * 100), " %"));
                        _i = 0, _a = ['full', 'serial', 'parallel'];
                        _o.label = 3;
                    case 3:
                        if (!(_i < _a.length)) return [3 /*break*/, 6];
                        plan = _a[_i];
                        w = this.bodies(o.warmup, plan);
                        return [4 /*yield*/, (0, http_driver_1.closedLoop)(url, w.bodies, w.labels, 1)];
                    case 4:
                        _o.sent();
                        _o.label = 5;
                    case 5:
                        _i++;
                        return [3 /*break*/, 3];
                    case 6:
                        searched = [];
                        _b = 0, _c = allPlans((0, model_package_1.earlyExitCount)(m));
                        _o.label = 7;
                    case 7:
                        if (!(_b < _c.length)) return [3 /*break*/, 10];
                        plan = _c[_b];
                        _d = this.bodies(o.oracleRequests, plan.join(',')), bodies = _d.bodies, labels = _d.labels;
                        return [4 /*yield*/, (0, http_driver_1.closedLoop)(url, bodies, labels, 1)];
                    case 8:
                        run = _o.sent();
                        searched.push({ plan: plan.join(','), meanMs: (0, stats_1.latencyStats)(run.samples.map(function (s) { return s.latencyMs; })).meanMs });
                        _o.label = 9;
                    case 9:
                        _b++;
                        return [3 /*break*/, 7];
                    case 10:
                        searched.sort(function (a, b) { return a.meanMs - b.meanMs; });
                        oraclePlan = searched[0].plan;
                        o.log("  oracle search over ".concat(searched.length, " plans: best ").concat(oraclePlan, " (").concat(searched[0].meanMs.toFixed(2), " ms), worst ").concat(searched[searched.length - 1].plan, " (").concat(searched[searched.length - 1].meanMs.toFixed(2), " ms)"));
                        strategies = [];
                        openRate = 0;
                        taskIds = [];
                        _e = 0, STRATEGIES_1 = exports.STRATEGIES;
                        _o.label = 11;
                    case 11:
                        if (!(_e < STRATEGIES_1.length)) return [3 /*break*/, 22];
                        strategy = STRATEGIES_1[_e];
                        planParam = strategy === 'oracle' ? oraclePlan : strategy;
                        _f = this.bodies(o.requests, planParam), bodies = _f.bodies, labels = _f.labels;
                        runs = [];
                        latenciesC1 = [];
                        c1Samples = [];
                        _g = 0, _h = o.concurrencies;
                        _o.label = 12;
                    case 12:
                        if (!(_g < _h.length)) return [3 /*break*/, 15];
                        c = _h[_g];
                        return [4 /*yield*/, (0, http_driver_1.closedLoop)(url, bodies, labels, c)];
                    case 13:
                        run = _o.sent();
                        runs.push(summarize("closed c=".concat(c), run, exitCount));
                        run.samples.forEach(function (s) { return taskIds.push(s.taskId); });
                        if (c === 1) {
                            latenciesC1 = run.samples.map(function (s) { return s.latencyMs; });
                            c1Samples = run.samples;
                        }
                        _o.label = 14;
                    case 14:
                        _g++;
                        return [3 /*break*/, 12];
                    case 15:
                        if (strategy === 'full')
                            openRate = (o.openRateFactor * 1000) / (0, stats_1.latencyStats)(latenciesC1).meanMs;
                        return [4 /*yield*/, (0, http_driver_1.openLoop)(url, bodies, labels, openRate)];
                    case 16:
                        open_1 = _o.sent();
                        runs.push(summarize("open ".concat(openRate.toFixed(1), "/s"), open_1, exitCount));
                        plan = (0, contracts_1.parsePlan)(strategy === 'auto' ? mostCommon(summarize('', { samples: c1Samples, wallMs: 1, errors: [] }, exitCount).plans) : planParam, (0, model_package_1.earlyExitCount)(m));
                        direct = [];
                        _j = 0, _k = this.requests.slice(0, o.requests);
                        _o.label = 17;
                    case 17:
                        if (!(_j < _k.length)) return [3 /*break*/, 20];
                        r = _k[_j];
                        _m = (_l = direct).push;
                        return [4 /*yield*/, inProcess.run(r, plan)];
                    case 18:
                        _m.apply(_l, [_o.sent()]);
                        _o.label = 19;
                    case 19:
                        _j++;
                        return [3 /*break*/, 17];
                    case 20:
                        inProc = summarize('in-process c=1', { samples: direct, wallMs: direct.reduce(function (a, s) { return a + s.latencyMs; }, 0), errors: [] }, exitCount);
                        c1 = runs.find(function (r) { return r.pattern === 'closed c=1'; });
                        strategies.push({
                            strategy: strategy,
                            runs: runs,
                            inProcess: inProc,
                            overheadP50Ms: c1 ? c1.latency.p50Ms - inProc.latency.p50Ms : undefined,
                            latenciesC1Ms: latenciesC1,
                        });
                        o.log("  ".concat(strategy.padEnd(8), " c=1 mean ").concat(c1 === null || c1 === void 0 ? void 0 : c1.latency.meanMs.toFixed(2), " ms, in-process ").concat(inProc.latency.meanMs.toFixed(2), " ms"));
                        _o.label = 21;
                    case 21:
                        _e++;
                        return [3 /*break*/, 11];
                    case 22: return [4 /*yield*/, this.abortReactions(inferQueue, taskIds)];
                    case 23:
                        abort = _o.sent();
                        return [4 /*yield*/, this.handoffs(branchQueue)];
                    case 24:
                        handoff = _o.sent();
                        return [4 /*yield*/, branchQueue.clean(0, 100000, 'completed')];
                    case 25:
                        _o.sent();
                        return [4 /*yield*/, load.stopAndWait()];
                    case 26:
                        _o.sent();
                        return [2 /*return*/, {
                                name: scenario.name,
                                backgroundLoad: scenario.backgroundLoad,
                                measuredLoad: measuredLoad,
                                oracle: { plan: oraclePlan, searched: searched },
                                openRatePerS: openRate,
                                strategies: strategies,
                                abortReactionMs: abort.length ? (0, stats_1.latencyStats)(abort) : undefined,
                                handoffMs: handoff.length ? (0, stats_1.latencyStats)(handoff) : undefined,
                            }];
                }
            });
        });
    };
    /** The trunk's own record of each branch-answered task: stop time beyond the work in flight. */
    BenchHarness.prototype.abortReactions = function (queue, taskIds) {
        return __awaiter(this, void 0, void 0, function () {
            var values, _i, taskIds_1, id, job, r;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        values = [];
                        _i = 0, taskIds_1 = taskIds;
                        _a.label = 1;
                    case 1:
                        if (!(_i < taskIds_1.length)) return [3 /*break*/, 4];
                        id = taskIds_1[_i];
                        return [4 /*yield*/, queue.getJob(id)];
                    case 2:
                        job = _a.sent();
                        r = job === null || job === void 0 ? void 0 : job.returnvalue;
                        if ((r === null || r === void 0 ? void 0 : r.abortReactionMs) !== undefined)
                            values.push(r.abortReactionMs);
                        _a.label = 3;
                    case 3:
                        _i++;
                        return [3 /*break*/, 1];
                    case 4: return [2 /*return*/, values];
                }
            });
        });
    };
    /** The branch worker's record of each subjob: trunk hand-off to feature in hand. */
    BenchHarness.prototype.handoffs = function (queue) {
        return __awaiter(this, void 0, void 0, function () {
            var jobs;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, queue.getJobs(['completed'], 0, 100000)];
                    case 1:
                        jobs = _a.sent();
                        return [2 /*return*/, jobs.map(function (j) { var _a; return (_a = j.returnvalue) === null || _a === void 0 ? void 0 : _a.handoffMs; }).filter(function (v) { return typeof v === 'number'; })];
                }
            });
        });
    };
    return BenchHarness;
}());
exports.BenchHarness = BenchHarness;
