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
var node_test_1 = require("node:test");
var strict_1 = require("node:assert/strict");
var node_child_process_1 = require("node:child_process");
var node_os_1 = require("node:os");
var supervisor_1 = require("@outlet/supervisor");
var direct_1 = require("../support/direct");
var http_1 = require("../support/http");
/**
 * slow-exit ships a hand-written plans.json: parallel up to 60 % CPU, serial above. A real
 * background load (busy processes on every core) must flip `auto` from one to the other.
 */
var body = { inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: new Array(784).fill(0.1) }], parameters: { plan: 'auto' } };
(0, node_test_1.describe)('plan=auto follows the node\'s CPU load', function () {
    var system;
    var load = [];
    (0, node_test_1.before)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, supervisor_1.OutletSystem.start({
                        quiet: true,
                        env: { OUTLET_MODELS_DIR: direct_1.FIXTURE_MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
                        nodes: [{ nodeId: 'edge-auto' }],
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
                case 0:
                    load.forEach(function (p) { return p.kill('SIGKILL'); });
                    return [4 /*yield*/, (system === null || system === void 0 ? void 0 : system.stop())];
                case 1:
                    _a.sent();
                    return [2 /*return*/];
            }
        });
    }); });
    /** Ask with plan=auto until the answer's plan satisfies `want` (the smoothed load needs a moment). */
    var askUntil = function (want, what) { return __awaiter(void 0, void 0, void 0, function () {
        var deadline, last, res;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0:
                    deadline = Date.now() + 30000;
                    _a.label = 1;
                case 1:
                    if (!(Date.now() < deadline)) return [3 /*break*/, 3];
                    return [4 /*yield*/, (0, http_1.post)("".concat(system.baseUrl, "/v2/models/slow-exit/infer"), body)];
                case 2:
                    res = _a.sent();
                    strict_1.default.equal(res.status, 200, JSON.stringify(res.body));
                    last = res.body.parameters;
                    if (want(last))
                        return [2 /*return*/, last];
                    return [3 /*break*/, 1];
                case 3: throw new Error("".concat(what, ": last answer had plan ").concat(last === null || last === void 0 ? void 0 : last.plan, " at cpu_util ").concat(last === null || last === void 0 ? void 0 : last.cpu_util));
            }
        });
    }); };
    (0, node_test_1.test)('idle: parallel; under a background load: serial; idle again: parallel', function () { return __awaiter(void 0, void 0, void 0, function () {
        var idle, loaded, decision, again;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, askUntil(function (p) { return p.cpu_util <= 0.6; }, 'the node never looked idle (is something else loading this machine?)')];
                case 1:
                    idle = _a.sent();
                    strict_1.default.equal(idle.plan_source, 'auto');
                    strict_1.default.equal(idle.plan, 'branch,branch,branch,branch');
                    load = (0, node_os_1.cpus)().map(function () { return (0, node_child_process_1.spawn)(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }); });
                    return [4 /*yield*/, askUntil(function (p) { return p.cpu_util > 0.7; }, 'the background load never showed')];
                case 2:
                    loaded = _a.sent();
                    strict_1.default.equal(loaded.plan_source, 'auto');
                    strict_1.default.equal(loaded.plan, 'trunk,trunk,trunk,trunk');
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/models/slow-exit/plan?cpu_util=0.9"))];
                case 3:
                    decision = _a.sent();
                    strict_1.default.equal(decision.status, 200);
                    strict_1.default.equal(decision.body.plan, 'trunk,trunk,trunk,trunk');
                    load.forEach(function (p) { return p.kill('SIGKILL'); });
                    load = [];
                    return [4 /*yield*/, askUntil(function (p) { return p.cpu_util <= 0.6; }, 'the load never went away')];
                case 4:
                    again = _a.sent();
                    strict_1.default.equal(again.plan, 'branch,branch,branch,branch');
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('GET /v1/models/{name}/plan answers the table\'s decision and refuses bad input', function () { return __awaiter(void 0, void 0, void 0, function () {
        var low, _a, _b, _c, _d, _e, _f, live;
        return __generator(this, function (_g) {
            switch (_g.label) {
                case 0: return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/models/slow-exit/plan?cpu_util=0.2"))];
                case 1:
                    low = _g.sent();
                    strict_1.default.equal(low.status, 200);
                    strict_1.default.equal(low.body.plan, 'branch,branch,branch,branch');
                    strict_1.default.equal(low.body.cpu_util, 0.2);
                    _b = (_a = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/models/slow-exit/plan?cpu_util=2"))];
                case 2:
                    _b.apply(_a, [(_g.sent()).status, 400]);
                    _d = (_c = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/models/slow-head/plan"))];
                case 3:
                    _d.apply(_c, [(_g.sent()).status, 404, 'no plan table']);
                    _f = (_e = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/models/nope/plan"))];
                case 4:
                    _f.apply(_e, [(_g.sent()).status, 404]);
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/v1/models/slow-exit/plan"))];
                case 5:
                    live = _g.sent();
                    strict_1.default.equal(live.status, 200);
                    strict_1.default.match(live.body.cpu_util_source, /live node/);
                    return [2 /*return*/];
            }
        });
    }); });
});
