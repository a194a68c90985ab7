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
exports.encodeBodies = encodeBodies;
exports.closedLoop = closedLoop;
exports.openLoop = openLoop;
var node_perf_hooks_1 = require("node:perf_hooks");
/** Request bodies are encoded once, before any clock starts. */
function encodeBodies(requests, shape, inputName, parameters) {
    return requests.map(function (r, i) {
        return JSON.stringify({ id: "bench-".concat(i), inputs: [{ name: inputName, shape: shape, datatype: 'FP32', data: Array.from(r.pixels) }], parameters: parameters });
    });
}
function send(url, body, label) {
    return __awaiter(this, void 0, void 0, function () {
        var started, res, text, latencyMs, p;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    started = node_perf_hooks_1.performance.now();
                    return [4 /*yield*/, fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body })];
                case 1:
                    res = _a.sent();
                    return [4 /*yield*/, res.text()];
                case 2:
                    text = _a.sent();
                    latencyMs = node_perf_hooks_1.performance.now() - started;
                    if (res.status !== 200)
                        return [2 /*return*/, "".concat(res.status, ": ").concat(text.slice(0, 200))];
                    p = JSON.parse(text).parameters;
                    return [2 /*return*/, {
                            latencyMs: latencyMs,
                            correct: Number(p.label) === label,
                            exitIndex: p.exit_index,
                            exitWorker: p.exit_worker,
                            trunkSegmentsRun: p.trunk_segments_run,
                            wastedSegments: p.trunk_segments_wasted,
                            plan: p.plan,
                            cpuUtil: p.cpu_util,
                            taskId: p.task_id,
                        }];
            }
        });
    });
}
function collect(outcomes, wallMs) {
    return {
        samples: outcomes.filter(function (o) { return typeof o !== 'string'; }),
        errors: outcomes.filter(function (o) { return typeof o === 'string'; }),
        wallMs: wallMs,
    };
}
/** Closed loop: `concurrency` clients, each sends its next request when the last one answers. */
function closedLoop(url, bodies, labels, concurrency) {
    return __awaiter(this, void 0, void 0, function () {
        var outcomes, next, started, client;
        var _this = this;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    outcomes = new Array(bodies.length);
                    next = 0;
                    started = node_perf_hooks_1.performance.now();
                    client = function () { return __awaiter(_this, void 0, void 0, function () {
                        var i, _a, _b;
                        return __generator(this, function (_c) {
                            switch (_c.label) {
                                case 0:
                                    i = next++;
                                    _c.label = 1;
                                case 1:
                                    if (!(i < bodies.length)) return [3 /*break*/, 4];
                                    _a = outcomes;
                                    _b = i;
                                    return [4 /*yield*/, send(url, bodies[i], labels[i])];
                                case 2:
                                    _a[_b] = _c.sent();
                                    _c.label = 3;
                                case 3:
                                    i = next++;
                                    return [3 /*break*/, 1];
                                case 4: return [2 /*return*/];
                            }
                        });
                    }); };
                    return [4 /*yield*/, Promise.all(Array.from({ length: concurrency }, client))];
                case 1:
                    _a.sent();
                    return [2 /*return*/, collect(outcomes, node_perf_hooks_1.performance.now() - started)];
            }
        });
    });
}
/** Open loop: requests leave at a fixed rate whatever the answers do (latency includes queueing). */
function openLoop(url, bodies, labels, ratePerSecond) {
    return __awaiter(this, void 0, void 0, function () {
        var interval, started, pending, _loop_1, i, outcomes;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    interval = 1000 / ratePerSecond;
                    started = node_perf_hooks_1.performance.now();
                    pending = [];
                    _loop_1 = function (i) {
                        var due, wait;
                        return __generator(this, function (_b) {
                            switch (_b.label) {
                                case 0:
                                    due = started + i * interval;
                                    wait = due - node_perf_hooks_1.performance.now();
                                    if (!(wait > 0)) return [3 /*break*/, 2];
                                    return [4 /*yield*/, new Promise(function (r) { return setTimeout(r, wait); })];
                                case 1:
                                    _b.sent();
                                    _b.label = 2;
                                case 2:
                                    pending.push(send(url, bodies[i], labels[i]));
                                    return [2 /*return*/];
                            }
                        });
                    };
                    i = 0;
                    _a.label = 1;
                case 1:
                    if (!(i < bodies.length)) return [3 /*break*/, 4];
                    return [5 /*yield**/, _loop_1(i)];
                case 2:
                    _a.sent();
                    _a.label = 3;
                case 3:
                    i++;
                    return [3 /*break*/, 1];
                case 4: return [4 /*yield*/, Promise.all(pending)];
                case 5:
                    outcomes = _a.sent();
                    return [2 /*return*/, collect(outcomes, node_perf_hooks_1.performance.now() - started)];
            }
        });
    });
}
