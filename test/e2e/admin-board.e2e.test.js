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
var supervisor_1 = require("@outlet/supervisor");
var direct_1 = require("../support/direct");
var http_1 = require("../support/http");
var USER = 'ops';
var PASSWORD = 'correct horse battery staple';
var basic = function (user, password) { return ({ authorization: "Basic ".concat(Buffer.from("".concat(user, ":").concat(password)).toString('base64')) }); };
(0, node_test_1.describe)('Bull Board at /admin/queues', function () {
    var system;
    (0, node_test_1.before)(function () { return __awaiter(void 0, void 0, void 0, function () {
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, supervisor_1.OutletSystem.start({
                        quiet: true,
                        env: { OUTLET_MODELS_DIR: direct_1.MODELS_DIR, OUTLET_TRUNK_EP: 'cpu' },
                        gatewayEnv: { OUTLET_ADMIN_USER: USER, OUTLET_ADMIN_PASSWORD: PASSWORD },
                        nodes: [{ nodeId: 'edge-board' }],
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
    (0, node_test_1.test)('answers 401 without or with wrong credentials, on the page and on its API', function () { return __awaiter(void 0, void 0, void 0, function () {
        var _i, _a, path, none, _b, _c;
        var _d;
        return __generator(this, function (_e) {
            switch (_e.label) {
                case 0:
                    _i = 0, _a = ['/admin/queues', '/admin/queues/api/queues'];
                    _e.label = 1;
                case 1:
                    if (!(_i < _a.length)) return [3 /*break*/, 5];
                    path = _a[_i];
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl).concat(path))];
                case 2:
                    none = _e.sent();
                    strict_1.default.equal(none.status, 401, path);
                    strict_1.default.match((_d = none.headers.get('www-authenticate')) !== null && _d !== void 0 ? _d : '', /Basic/);
                    _c = (_b = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl).concat(path), basic(USER, 'wrong'))];
                case 3:
                    _c.apply(_b, [(_e.sent()).status, 401, path]);
                    _e.label = 4;
                case 4:
                    _i++;
                    return [3 /*break*/, 1];
                case 5: return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('answers 200 with credentials and shows the inference queue and the node\'s branch queue', function () { return __awaiter(void 0, void 0, void 0, function () {
        var page, api, names;
        return __generator(this, function (_a) {
            switch (_a.label) {
                case 0: return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/admin/queues"), basic(USER, PASSWORD))];
                case 1:
                    page = _a.sent();
                    strict_1.default.equal(page.status, 200);
                    strict_1.default.match(String(page.body), /<html/i);
                    return [4 /*yield*/, (0, http_1.get)("".concat(system.baseUrl, "/admin/queues/api/queues"), basic(USER, PASSWORD))];
                case 2:
                    api = _a.sent();
                    strict_1.default.equal(api.status, 200);
                    names = api.body.queues.map(function (q) { return q.name; });
                    strict_1.default.ok(names.includes('outlet-infer-branchy-mnist'), names.join(', '));
                    strict_1.default.ok(names.includes('outlet-branch-edge-board'), names.join(', '));
                    return [2 /*return*/];
            }
        });
    }); });
    (0, node_test_1.test)('without credentials configured the board is off: 404', function () { return __awaiter(void 0, void 0, void 0, function () {
        var port, gateway, _a, _b, _c, _d;
        return __generator(this, function (_e) {
            switch (_e.label) {
                case 0: return [4 /*yield*/, (0, supervisor_1.freePort)()];
                case 1:
                    port = _e.sent();
                    gateway = new supervisor_1.ManagedProcess({
                        name: 'gateway-no-board',
                        command: process.execPath,
                        args: [(0, supervisor_1.appEntry)('gateway')],
                        env: { REDIS_URL: system.redisUrl, PORT: String(port), OUTLET_MODELS_DIR: direct_1.MODELS_DIR, OUTLET_ADMIN_USER: '', OUTLET_ADMIN_PASSWORD: '' },
                        readyPattern: /serving .* API http/,
                        onLine: null,
                    });
                    _e.label = 2;
                case 2:
                    _e.trys.push([2, , 6, 8]);
                    return [4 /*yield*/, gateway.ready];
                case 3:
                    _e.sent();
                    strict_1.default.ok(gateway.lines().some(function (l) { return /Bull Board is off: set OUTLET_ADMIN_USER/.test(l); }), 'the gateway logs why');
                    _b = (_a = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("http://127.0.0.1:".concat(port, "/admin/queues"))];
                case 4:
                    _b.apply(_a, [(_e.sent()).status, 404]);
                    _d = (_c = strict_1.default).equal;
                    return [4 /*yield*/, (0, http_1.get)("http://127.0.0.1:".concat(port, "/admin/queues"), basic(USER, PASSWORD))];
                case 5:
                    _d.apply(_c, [(_e.sent()).status, 404]);
                    return [3 /*break*/, 8];
                case 6: return [4 /*yield*/, gateway.stop()];
                case 7:
                    _e.sent();
                    return [7 /*endfinally*/];
                case 8: return [2 /*return*/];
            }
        });
    }); });
});
