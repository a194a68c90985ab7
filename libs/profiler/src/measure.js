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
Object.defineProperty(exports, "__esModule", { value: true });
exports.PROFILED_EPS = void 0;
exports.openSession = openSession;
exports.randomFeeds = randomFeeds;
exports.probeProviders = probeProviders;
exports.timeTarget = timeTarget;
exports.sweepLevels = sweepLevels;
var ort = require("onnxruntime-node");
var inference_1 = require("@outlet/inference");
var onnx_cost_1 = require("@outlet/onnx-cost");
var load_generator_1 = require("./load-generator");
var stats_1 = require("./stats");
/** Execution providers the profiler tries, CPU first. */
exports.PROFILED_EPS = ['cpu', 'webgpu', 'cuda'];
function openSession(source, ep, threads) {
    return __awaiter(this, void 0, void 0, function () {
        return __generator(this, function (_a) {
            return [2 /*return*/, typeof source === 'string'
                    ? ort.InferenceSession.create(source, (0, inference_1.sessionOptions)(ep, threads))
                    : ort.InferenceSession.create(source, (0, inference_1.sessionOptions)(ep, threads))];
        });
    });
}
/** Random FP32 feeds for a model's inputs, shaped from its graph (dynamic batch = 1). */
function randomFeeds(source, seed) {
    if (seed === void 0) { seed = 1; }
    var cost = (0, onnx_cost_1.analyzeModel)(source);
    var s = seed >>> 0;
    var rand = function () { return ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / Math.pow(2, 32)) * 2 - 1; };
    return Object.fromEntries(cost.inputs.map(function (i) {
        var n = i.shape.reduce(function (a, b) { return a * b; }, 1);
        return [i.name, new ort.Tensor('float32', Float32Array.from({ length: n }, rand), i.shape)];
    }));
}
/**
 * Which providers open `probe` and run it: an entry per provider tried, with the first line of
 * the error for those that fail (webgpu without an adapter, cuda without its libraries).
 */
function probeProviders(probe_1, threads_1) {
    return __awaiter(this, arguments, void 0, function (probe, threads, eps) {
        var available, unavailable, feeds, _i, eps_1, ep, session, err_1;
        if (eps === void 0) { eps = exports.PROFILED_EPS; }
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    available = [];
                    unavailable = {};
                    feeds = randomFeeds(probe);
                    _i = 0, eps_1 = eps;
                    _a.label = 1;
                case 1:
                    if (!(_i < eps_1.length)) return [3 /*break*/, 8];
                    ep = eps_1[_i];
                    _a.label = 2;
                case 2:
                    _a.trys.push([2, 6, , 7]);
                    return [4 /*yield*/, openSession(probe, ep, threads)];
                case 3:
                    session = _a.sent();
                    return [4 /*yield*/, session.run(feeds)];
                case 4:
                    _a.sent();
                    return [4 /*yield*/, session.release()];
                case 5:
                    _a.sent();
                    available.push(ep);
                    return [3 /*break*/, 7];
                case 6:
                    err_1 = _a.sent();
                    unavailable[ep] = err_1.message.split('\n')[0].slice(0, 300);
                    return [3 /*break*/, 7];
                case 7:
                    _i++;
                    return [3 /*break*/, 1];
                case 8: return [2 /*return*/, { available: available, unavailable: unavailable }];
            }
        });
    });
}
/** Time `session.run` (ms) after warm-up runs. */
function timeTarget(target, options) {
    return __awaiter(this, void 0, void 0, function () {
        var warmup, runs, _a, maxMsPerTarget, _b, minRuns, i, times, began, i, t0;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0:
                    warmup = options.warmup, runs = options.runs, _a = options.maxMsPerTarget, maxMsPerTarget = _a === void 0 ? Infinity : _a, _b = options.minRuns, minRuns = _b === void 0 ? 5 : _b;
                    i = 0;
                    _c.label = 1;
                case 1:
                    if (!(i < warmup)) return [3 /*break*/, 4];
                    return [4 /*yield*/, target.session.run(target.feeds)];
                case 2:
                    _c.sent();
                    _c.label = 3;
                case 3:
                    i++;
                    return [3 /*break*/, 1];
                case 4:
                    times = [];
                    began = performance.now();
                    i = 0;
                    _c.label = 5;
                case 5:
                    if (!(i < runs)) return [3 /*break*/, 8];
                    t0 = process.hrtime.bigint();
                    return [4 /*yield*/, target.session.run(target.feeds)];
                case 6:
                    _c.sent();
                    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
                    if (times.length >= minRuns && performance.now() - began > maxMsPerTarget)
                        return [3 /*break*/, 8];
                    _c.label = 7;
                case 7:
                    i++;
                    return [3 /*break*/, 5];
                case 8: return [2 /*return*/, (0, stats_1.summarize)(times)];
            }
        });
    });
}
/**
 * Time every target at every background utilization level: for each level, start the load,
 * measure the achieved utilization with nothing else of ours running, then time each target.
 */
function sweepLevels(targets, options) {
    return __awaiter(this, void 0, void 0, function () {
        var load, _a, settleMs, _b, utilWindowMs, results, levels, total, done, _i, _c, u, achieved, _d, targets_1, target, _e, _f;
        var _g, _h, _j;
        return __generator(this, function (_k) {
            switch (_k.label) {
                case 0:
                    load = (_g = options.load) !== null && _g !== void 0 ? _g : new load_generator_1.LoadGenerator();
                    _a = options.settleMs, settleMs = _a === void 0 ? 200 : _a, _b = options.utilWindowMs, utilWindowMs = _b === void 0 ? 500 : _b;
                    results = new Map(targets.map(function (t) { return [t.key, []]; }));
                    levels = [];
                    total = options.levels.length * targets.length;
                    done = 0;
                    _k.label = 1;
                case 1:
                    _k.trys.push([1, , 11, 13]);
                    _i = 0, _c = options.levels;
                    _k.label = 2;
                case 2:
                    if (!(_i < _c.length)) return [3 /*break*/, 10];
                    u = _c[_i];
                    load.start(u);
                    return [4 /*yield*/, new Promise(function (r) { return setTimeout(r, settleMs); })];
                case 3:
                    _k.sent();
                    return [4 /*yield*/, (0, load_generator_1.measureUtilization)(utilWindowMs)];
                case 4:
                    achieved = _k.sent();
                    levels.push({ cpu_util: u, achieved_util: achieved });
                    _d = 0, targets_1 = targets;
                    _k.label = 5;
                case 5:
                    if (!(_d < targets_1.length)) return [3 /*break*/, 8];
                    target = targets_1[_d];
                    (_h = options.onProgress) === null || _h === void 0 ? void 0 : _h.call(options, done, total, "u=".concat(u, " ").concat(target.key));
                    _f = (_e = results.get(target.key)).push;
                    return [4 /*yield*/, timeTarget(target, options)];
                case 6:
                    _f.apply(_e, [_k.sent()]);
                    done += 1;
                    _k.label = 7;
                case 7:
                    _d++;
                    return [3 /*break*/, 5];
                case 8:
                    (_j = options.onProgress) === null || _j === void 0 ? void 0 : _j.call(options, done, total, "u=".concat(u, " done (achieved ").concat(achieved.toFixed(2), ")"));
                    _k.label = 9;
                case 9:
                    _i++;
                    return [3 /*break*/, 2];
                case 10: return [3 /*break*/, 13];
                case 11: return [4 /*yield*/, load.stopAndWait()];
                case 12:
                    _k.sent();
                    return [7 /*endfinally*/];
                case 13: return [2 /*return*/, { levels: levels, results: results }];
            }
        });
    });
}
