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
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var node_path_1 = require("node:path");
var bullmq_1 = require("bullmq");
var config_1 = require("@outlet/config");
var contracts_1 = require("@outlet/contracts");
var inference_1 = require("@outlet/inference");
var supervisor_1 = require("@outlet/supervisor");
var digits_1 = require("../support/digits");
var direct_1 = require("../support/direct");
var http_1 = require("../support/http");
var MODEL = 'branchy-mnist';
var THRESHOLDS = [0.85, 0.7, 0]; // read back from the manifest below
(0, node_test_1.describe)('branchy-mnist through gateway, Redis and worker processes', function () {
    var system;
    var direct;
    var infer;
    (0, node_test_1.before)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, supervisor_1.OutletSystem.start({
                        quiet: true,
                        env: { OUTLET_MODELS_DIR: direct_1.MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
                        gatewayEnv: { OUTLET_BODY_LIMIT: '64kb' },
                        nodes: [{ nodeId: 'edge-1' }],
                    })];
                case 1:
                    system = _a.sent();
                    return [4 /*yield*/, direct_1.DirectModel.open((0, node_path_1.join)(direct_1.MODELS_DIR, MODEL))];
                case 2:
                    direct = _a.sent();
                    direct.model.manifest.exits.forEach(function (e, i) { return (THRESHOLDS[i] = e.threshold); });
                    infer = "".concat(system.baseUrl, "/v2/models/").concat(MODEL, "/infer");
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.after)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, (direct === null || direct === void 0 ? void 0 : direct.release())];
                case 1:
                    _a.sent();
                    return [4 /*yield*/, (system === null || system === void 0 ? void 0 : system.stop())];
                case 2:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('health, server and model metadata follow the Open Inference Protocol v2', function () { return __awaiter(void 0, void 0, void 0, function () {
        var _a, _b, _c, _d, meta, _e, _f;
        return __generator(this, function (_g) {
            switch (_g.label) {
                case 0:
                    _b = (_a = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v2/health/live"))];
                case 1:
                    _b.apply(_a, [(_g.sent()).status, 200]);
                    _d = (_c = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v2/health/ready"))];
                case 2:
                    _d.apply(_c, [(_g.sent()).status, 200]);
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v2/models/").concat(MODEL))];
                case 3:
                    meta = _g.sent();
                    strict_1.default.equal(meta.status, 200);
                    strict_1.default.equal(meta.body.name, MODEL);
                    strict_1.default.deepEqual(meta.body.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }]);
                    strict_1.default.equal(meta.body.outputs[0].name, 'probabilities');
                    _f = (_e = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v2/models/").concat(MODEL, "/ready"))];
                case 4:
                    _f.apply(_e, [(_g.sent()).status, 200]);
                    return [2 /*return*/];
            }
        });
    }); });
    var _loop_1 = function (plan) {
        (0, node_test_1.test)("plan=".concat(plan, ": the answer equals direct onnxruntime inference of the exit that answered"), function () { return __awaiter(void 0, void 0, void 0, function () {
            var _loop_2, _i, _a, _b, label, nth;
            return __generator(this, function (_c) {
                switch (_c.label) {
                    case 0:
                        _loop_2 = function (label, nth) {
                            var pixels, res, p, exits, output, expected, _d, _e, key, firstConfident;
                            return __generator(this, function (_f) {
                                switch (_f.label) {
                                    case 0:
                                        pixels = (0, digits_1.heldOutDigit)(label, nth);
                                        return [4 /*yield*/, (0, http_1.post)(infer, (0, digits_1.inferBody)(pixels, { plan: plan }, "d".concat(label, "-").concat(nth)))];
                                    case 1:
                                        res = _f.sent();
                                        strict_1.default.equal(res.status, 200, JSON.stringify(res.body));
                                        p = res.body.parameters;
                                        return [4 /*yield*/, direct.allExits(pixels)];
                                    case 2:
                                        exits = _f.sent();
                                        output = res.body.outputs[0];
                                        strict_1.default.equal(res.body.model_name, MODEL);
                                        strict_1.default.equal(res.body.id, "d".concat(label, "-").concat(nth));
                                        strict_1.default.equal(output.name, 'probabilities');
                                        strict_1.default.deepEqual(output.shape, [1, 10]);
                                        expected = exits[p.exit_index];
                                        output.data.forEach(function (v, i) { return strict_1.default.ok(Math.abs(v - expected[i]) <= 1e-5, "value ".concat(i, ": ").concat(v, " vs ").concat(expected[i])); });
                                        strict_1.default.equal(p.exit_count, 3);
                                        strict_1.default.equal(p.node_id, 'edge-1');
                                        strict_1.default.equal(p.trunk_ep, 'cpu');
                                        for (_d = 0, _e = ['queue_ms', 'trunk_ms', 'branch_ms', 'total_ms', 'exit_confidence']; _d < _e.length; _d++) {
                                            key = _e[_d];
                                            strict_1.default.equal(typeof p[key], 'number', key);
                                        }
                                        firstConfident = exits.findIndex(function (probs, i) { return i === exits.length - 1 || (0, inference_1.isConfident)(probs, THRESHOLDS[i]); });
                                        if (plan === 'full') {
                                            strict_1.default.equal(p.plan, 'skip,skip');
                                            strict_1.default.equal(p.exit_index, 2);
                                            strict_1.default.equal(p.trunk_segments_run, 3);
                                            strict_1.default.equal(p.exit_worker, 'trunk');
                                        }
                                        else if (plan === 'serial') {
                                            strict_1.default.equal(p.plan, 'trunk,trunk');
                                            strict_1.default.equal(p.exit_index, firstConfident, 'serial answers from the first confident exit');
                                            strict_1.default.equal(p.exit_worker, 'trunk');
                                            strict_1.default.equal(p.trunk_segments_run, firstConfident + 1);
                                        }
                                        else {
                                            strict_1.default.equal(p.plan, 'branch,branch');
                                            // The first decision in time: a confident branch head, or the final exit if the trunk won.
                                            strict_1.default.ok(p.exit_worker === 'branch' ? p.exit_index < 2 && (0, inference_1.isConfident)(expected, THRESHOLDS[p.exit_index]) : p.exit_index === 2);
                                        }
                                        return [2 /*return*/];
                                }
                            });
                        };
                        _i = 0, _a = [[7, 0], [3, 1], [8, 2], [5, 3], [2, 4], [9, 5]];
                        _c.label = 1;
                    case 1:
                        if (!(_i < _a.length)) return [3 /*break*/, 4];
                        _b = _a[_i], label = _b[0], nth = _b[1];
                        return [5 /*yield**/, _loop_2(label, nth)];
                    case 2:
                        _c.sent();
                        _c.label = 3;
                    case 3:
                        _i++;
                        return [3 /*break*/, 1];
                    case 4: return [2 /*return*/];
                }
            });
        }); });
    };
    for (var _i = 0, _a = ['serial', 'parallel', 'full']; _i < _a.length; _i++) {
        var plan = _a[_i];
        _loop_1(plan);
    }
    (0, node_test_1.test)('a comma plan and a threshold override are applied', function () { return __awaiter(void 0, void 0, void 0, function () {
        var pixels, res;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    pixels = (0, digits_1.heldOutDigit)(1, 0);
                    return [4 /*yield*/, (0, http_1.post)(infer, (0, digits_1.inferBody)(pixels, { plan: 'skip,trunk', threshold: 0 }))];
                case 1:
                    res = _a.sent();
                    strict_1.default.equal(res.status, 200);
                    strict_1.default.equal(res.body.parameters.plan, 'skip,trunk');
                    strict_1.default.equal(res.body.parameters.exit_index, 1, 'threshold 0 makes exit 1 answer; exit 0 was skipped');
                    strict_1.default.equal(res.body.parameters.trunk_segments_run, 2);
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('asynchronous jobs: 202 with an id, then the same result as /infer', function () { return __awaiter(void 0, void 0, void 0, function () {
        var pixels, submitted, done, exits, _a, _b;
        return __generator(this, function (_c) {
            switch (_c.label) {
                case 0:
                    pixels = (0, digits_1.heldOutDigit)(4, 1);
                    return [4 /*yield*/, (0, http_1.post)("".concat(system.baseUrl, "/v1/jobs"), __assign({ model: MODEL }, (0, digits_1.inferBody)(pixels, { plan: 'full' }, 'async-1')))];
                case 1:
                    submitted = _c.sent();
                    strict_1.default.equal(submitted.status, 202);
                    strict_1.default.equal(typeof submitted.body.id, 'string');
                    return [4 /*yield*/, (0, http_1.waitForJob)(system.baseUrl, submitted.body.id)];
                case 2:
                    done = _c.sent();
                    strict_1.default.equal(done.state, 'completed');
                    return [4 /*yield*/, direct.allExits(pixels)];
                case 3:
                    exits = _c.sent();
                    strict_1.default.equal(done.result.id, 'async-1');
                    strict_1.default.equal(done.result.parameters.exit_index, 2);
                    done.result.outputs[0].data.forEach(function (v, i) { return strict_1.default.ok(Math.abs(v - exits[2][i]) <= 1e-5); });
                    _b = (_a = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/jobs/no-such-job"))];
                case 4:
                    _b.apply(_a, [(_c.sent()).status, 404]);
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('every bad input gets its 4xx with the reason named, and the workers go on serving', function () { return __awaiter(void 0, void 0, void 0, function () {
        var good, tensor, cases, _i, cases_1, _a, name_1, url, body, status_1, message, res, ok;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0:
                    good = (0, digits_1.inferBody)((0, digits_1.heldOutDigit)(0, 0));
                    tensor = function (over) { return ({ inputs: [__assign(__assign({}, good.inputs[0]), over)] }); };
                    cases = [
                        ['unknown model', "".concat(system.baseUrl, "/v2/models/resnet/infer"), good, 404, /unknown model 'resnet'/],
                        ['malformed JSON', infer, '{"inputs": [', 400, /malformed JSON/],
                        ['missing input', infer, { inputs: [] }, 400, /missing input 'input'/],
                        ['unknown input', infer, tensor({ name: 'image' }), 400, /unknown input 'image'/],
                        ['wrong datatype', infer, tensor({ datatype: 'INT64' }), 400, /datatype "INT64"; expected 'FP32'/],
                        ['wrong shape', infer, tensor({ shape: [1, 28, 28] }), 400, /shape \[1,28,28\] does not match/],
                        ['batch of 2', infer, tensor({ shape: [2, 1, 28, 28] }), 400, /batch size 2 is not supported/],
                        ['data length', infer, tensor({ data: [1, 2, 3] }), 400, /has 3 values but shape \[1,1,28,28\] needs 784/],
                        ['not finite', infer, tensor({ data: __spreadArray(__spreadArray([], good.inputs[0].data.slice(0, 783), true), ['NaN'], false) }), 400, /index 783 is "NaN", not a finite number/],
                        ['unknown plan', infer, __assign(__assign({}, good), { parameters: { plan: 'turbo' } }), 400, /unknown plan or placement 'turbo'/],
                        ['unknown placement', infer, __assign(__assign({}, good), { parameters: { plan: 'branch,gpu' } }), 400, /unknown plan or placement 'gpu'/],
                        ['body too large', infer, __assign(__assign({}, good), { padding: 'x'.repeat(100000) }), 413, /larger than the limit of 64kb/],
                        ['unknown job model', "".concat(system.baseUrl, "/v1/jobs"), __assign({ model: 'resnet' }, good), 404, /unknown model 'resnet'/],
                    ];
                    _i = 0, cases_1 = cases;
                    _b.label = 1;
                case 1:
                    if (!(_i < cases_1.length)) return [3 /*break*/, 4];
                    _a = cases_1[_i], name_1 = _a[0], url = _a[1], body = _a[2], status_1 = _a[3], message = _a[4];
                    return [4 /*yield*/, (0, http_1.post)(url, body)];
                case 2:
                    res = _b.sent();
                    strict_1.default.equal(res.status, status_1, "".concat(name_1, ": ").concat(JSON.stringify(res.body)));
                    strict_1.default.match(res.body.error, message, name_1);
                    _b.label = 3;
                case 3:
                    _i++;
                    return [3 /*break*/, 1];
                case 4: return [4 /*yield*/, (0, http_1.post)(infer, good)];
                case 5:
                    ok = _b.sent();
                    strict_1.default.equal(ok.status, 200);
                    strict_1.default.equal(ok.body.parameters.label, '0');
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('a malformed job that bypasses the gateway fails alone; the worker keeps serving', function () { return __awaiter(void 0, void 0, void 0, function () {
        var queue, bad, failed, res;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    queue = new bullmq_1.Queue((0, contracts_1.inferQueueName)(MODEL), { connection: (0, config_1.bullConnection)(system.redisUrl) });
                    _a.label = 1;
                case 1:
                    _a.trys.push([1, , 5, 7]);
                    return [4 /*yield*/, queue.add('infer', { model: MODEL, input: { dataBase64: '!!!', shape: [1, 2] }, plan: 'serial' })];
                case 2:
                    bad = _a.sent();
                    return [4 /*yield*/, (0, http_1.waitForJob)(system.baseUrl, bad.id)];
                case 3:
                    failed = _a.sent();
                    strict_1.default.equal(failed.state, 'failed');
                    strict_1.default.match(failed.error, /does not fit|not base64/);
                    return [4 /*yield*/, (0, http_1.post)(infer, (0, digits_1.inferBody)((0, digits_1.heldOutDigit)(6, 0), { plan: 'serial' }))];
                case 4:
                    res = _a.sent();
                    strict_1.default.equal(res.status, 200);
                    return [3 /*break*/, 7];
                case 5: return [4 /*yield*/, queue.close()];
                case 6:
                    _a.sent();
                    return [7 /*endfinally*/];
                case 7: return [2 /*return*/];
            }
        });
    }); });
});
