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
exports.InProcessRunner = void 0;
var node_path_1 = require("node:path");
var node_perf_hooks_1 = require("node:perf_hooks");
var promises_1 = require("node:timers/promises");
var node_worker_threads_1 = require("node:worker_threads");
var inference_1 = require("@outlet/inference");
/**
 * The same plan logic without queues, HTTP or processes: the trunk in this thread, the branch
 * heads in a worker thread, features passed by postMessage. What the system adds on top of this is
 * its overhead.
 */
var InProcessRunner = /** @class */ (function () {
    function InProcessRunner(model, branch, answeredBelow) {
        var _this = this;
        this.model = model;
        this.branch = branch;
        this.answeredBelow = answeredBelow;
        this.nextTask = 0;
        this.current = -1;
        branch.on('message', function (m) {
            if (m === 'ready')
                return;
            if (m.exited && m.taskId === _this.current && !_this.firstExit)
                _this.firstExit = m;
        });
    }
    /** One task at a time (the baseline is measured at concurrency 1). */
    InProcessRunner.open = function (pkg, ep, threads) {
        return __awaiter(this, void 0, void 0, function () {
            var model, answered, branch;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, inference_1.MultiExitModel.load(pkg, ep, threads)];
                    case 1:
                        model = _a.sent();
                        answered = new SharedArrayBuffer(4);
                        branch = new node_worker_threads_1.Worker((0, node_path_1.join)(__dirname, 'branch-thread.js'), { workerData: { modelDir: pkg.dir, threads: threads, answered: answered } });
                        return [4 /*yield*/, new Promise(function (resolve, reject) {
                                branch.once('message', function () { return resolve(); });
                                branch.once('error', reject);
                            })];
                    case 2:
                        _a.sent();
                        return [2 /*return*/, new InProcessRunner(model, branch, new Int32Array(answered))];
                }
            });
        });
    };
    InProcessRunner.prototype.run = function (request, plan) {
        return __awaiter(this, void 0, void 0, function () {
            var taskId, m, thresholds, started, outcome, latencyMs, decision;
            var _this = this;
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0:
                        taskId = this.nextTask++;
                        this.current = taskId;
                        this.firstExit = undefined;
                        m = this.model.manifest;
                        thresholds = m.exits.map(function (e) { return e.threshold; });
                        started = node_perf_hooks_1.performance.now();
                        return [4 /*yield*/, (0, inference_1.runTrunk)(this.model, { data: request.pixels, dims: __spreadArray([1], m.input.shape.slice(1), true) }, plan, thresholds, {
                                handOff: function (exitIndex, feature) {
                                    var message = { taskId: taskId, exitIndex: exitIndex, data: feature.data.slice(), dims: feature.dims, threshold: thresholds[exitIndex] };
                                    _this.branch.postMessage(message, [message.data.buffer]);
                                },
                                pollEarlyExit: function () { return __awaiter(_this, void 0, void 0, function () {
                                    var hit, decision;
                                    return __generator(this, function (_a) {
                                        switch (_a.label) {
                                            case 0: return [4 /*yield*/, (0, promises_1.setImmediate)()];
                                            case 1:
                                                _a.sent();
                                                hit = this.firstExit;
                                                if (!hit)
                                                    return [2 /*return*/, undefined];
                                                decision = __assign(__assign({}, hit), { worker: 'branch' });
                                                return [2 /*return*/, decision];
                                        }
                                    });
                                }); },
                            })];
                    case 1:
                        outcome = _a.sent();
                        latencyMs = node_perf_hooks_1.performance.now() - started;
                        Atomics.store(this.answeredBelow, 0, taskId + 1);
                        decision = outcome.decision;
                        return [2 /*return*/, {
                                latencyMs: latencyMs,
                                correct: (0, inference_1.argMax)(decision.probabilities) === request.label,
                                exitIndex: decision.exitIndex,
                                exitWorker: decision.worker,
                                trunkSegmentsRun: outcome.segmentsRan.length,
                                wastedSegments: outcome.segmentsAfterAnswer,
                                plan: plan.join(','),
                                taskId: "in-process-".concat(taskId),
                            }];
                }
            });
        });
    };
    InProcessRunner.prototype.close = function () {
        return __awaiter(this, void 0, void 0, function () {
            return __generator(this, function (_a) {
                switch (_a.label) {
                    case 0: return [4 /*yield*/, this.branch.terminate()];
                    case 1:
                        _a.sent();
                        return [4 /*yield*/, this.model.release()];
                    case 2:
                        _a.sent();
                        return [2 /*return*/];
                }
            });
        });
    };
    return InProcessRunner;
}());
exports.InProcessRunner = InProcessRunner;
