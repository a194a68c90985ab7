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
exports.startCommand = startCommand;
var node_os_1 = require("node:os");
var ioredis_1 = require("ioredis");
var config_1 = require("@outlet/config");
var supervisor_1 = require("@outlet/supervisor");
/**
 * `outlet start` (what `npm start` runs): the whole single-node system as separate processes —
 * gateway, trunk worker, branch worker — on REDIS_URL, or on a private redis-server.
 */
function startCommand() {
    return __awaiter(this, void 0, void 0, function () {
        var port, nodeId, redisUrl, probe, err_1, system, err_2, base, stopping, stop, _loop_1, _i, _a, p;
        var _this = this;
        return __generator(this, function (_b) {
            switch (_b.label) {
                case 0:
                    try {
                        port = (0, config_1.envInt)(process.env, 'PORT', 3000, 0, 65535);
                        nodeId = (0, config_1.envNodeId)(process.env, (0, node_os_1.hostname)());
                        redisUrl = process.env.REDIS_URL ? (0, config_1.envRedisUrl)(process.env, '') : undefined;
                    }
                    catch (err) {
                        if (err instanceof config_1.ConfigError)
                            return [2 /*return*/, fail("bad setting: ".concat(err.message))];
                        throw err;
                    }
                    if (!redisUrl) return [3 /*break*/, 7];
                    probe = new ioredis_1.default(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: function () { return null; }, lazyConnect: true });
                    _b.label = 1;
                case 1:
                    _b.trys.push([1, 4, 5, 6]);
                    return [4 /*yield*/, probe.connect()];
                case 2:
                    _b.sent();
                    return [4 /*yield*/, probe.ping()];
                case 3:
                    _b.sent();
                    return [3 /*break*/, 6];
                case 4:
                    err_1 = _b.sent();
                    return [2 /*return*/, fail("REDIS_URL=".concat(redisUrl, " does not answer (").concat(err_1.message, "). ").concat(supervisor_1.HOW_TO_GET_REDIS))];
                case 5:
                    probe.disconnect();
                    return [7 /*endfinally*/];
                case 6: return [3 /*break*/, 8];
                case 7:
                    if (!(0, supervisor_1.findRedisServer)()) {
                        return [2 /*return*/, fail("REDIS_URL is not set and redis-server is not installed. ".concat(supervisor_1.HOW_TO_GET_REDIS))];
                    }
                    _b.label = 8;
                case 8:
                    console.log(redisUrl ? "outlet: using Redis at ".concat(redisUrl) : 'outlet: starting a private redis-server (set REDIS_URL to use your own)');
                    _b.label = 9;
                case 9:
                    _b.trys.push([9, 11, , 12]);
                    return [4 /*yield*/, supervisor_1.OutletSystem.start({ redisUrl: redisUrl, port: port, nodes: [{ nodeId: nodeId }] })];
                case 10:
                    system = _b.sent();
                    return [3 /*break*/, 12];
                case 11:
                    err_2 = _b.sent();
                    return [2 /*return*/, fail(err_2.message)];
                case 12:
                    base = "http://localhost:".concat(port);
                    console.log('');
                    console.log("outlet: ready \u2014 node ".concat(nodeId, ", Redis ").concat(system.redisUrl));
                    console.log("  API         ".concat(base, "/v2/models/<model>/infer   (models: ").concat(base, "/v2/models/branchy-mnist)"));
                    console.log("  Jobs        ".concat(base, "/v1/jobs"));
                    console.log(process.env.OUTLET_ADMIN_USER
                        ? "  Bull Board  ".concat(base, "/admin/queues")
                        : "  Bull Board  off (set OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD to serve ".concat(base, "/admin/queues)"));
                    console.log('  Ctrl-C stops everything.');
                    stopping = false;
                    stop = function (why, code) { return __awaiter(_this, void 0, void 0, function () {
                        return __generator(this, function (_a) {
                            switch (_a.label) {
                                case 0:
                                    if (stopping)
                                        return [2 /*return*/];
                                    stopping = true;
                                    console.log("outlet: ".concat(why, "; stopping every process\u2026"));
                                    return [4 /*yield*/, system.stop()];
                                case 1:
                                    _a.sent();
                                    process.exit(code);
                                    return [2 /*return*/];
                            }
                        });
                    }); };
                    process.on('SIGINT', function () { return void stop('SIGINT', 0); });
                    process.on('SIGTERM', function () { return void stop('SIGTERM', 0); });
                    _loop_1 = function (p) {
                        void p.exited.then(function (code) { return void stop("".concat(p.spec.name, " exited unexpectedly (code ").concat(code, ")"), 1); });
                    };
                    for (_i = 0, _a = system.processes(); _i < _a.length; _i++) {
                        p = _a[_i];
                        _loop_1(p);
                    }
                    return [2 /*return*/];
            }
        });
    });
}
function fail(message) {
    console.error("outlet: ".concat(message));
    process.exit(1);
}
